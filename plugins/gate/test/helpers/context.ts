import type { BerthServices, TaskContext } from '@berth/contract'
import { makeTestContext, type RecordedLog } from '@berth/contract/testing'
import { gateSection } from '../../src/index.js'

export type { RecordedLog }

export interface TestContextOptions {
  gate?: unknown
  /** Parsed flag values, as the runner hands them to the step (`timeout` in seconds). */
  flags?: { timeout?: number; 'no-wait'?: boolean }
  env?: Record<string, string>
  services?: BerthServices
  signal?: AbortSignal
  secrets?: string[]
}

/** A TaskContext as the runner would build it for `gate.wait`, plus the log lines it received. */
export function makeContext(options: TestContextOptions = {}): { ctx: TaskContext; logs: RecordedLog[] } {
  const ctx = makeTestContext({
    root: process.cwd(),
    home: '/nonexistent-berth-home',
    project: 'gate-test',
    task: 'gate',
    config: [gateSection],
    sections: options.gate === undefined ? {} : { gate: options.gate },
    flags: options.flags ?? {},
    env: options.env ?? {},
    secretEnv: Object.fromEntries((options.secrets ?? []).map((value, index) => [`SECRET_${index}`, value])),
    ...(options.services ? { services: options.services } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  })
  return { ctx, logs: ctx.logs }
}
