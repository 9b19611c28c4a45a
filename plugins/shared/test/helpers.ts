import { mkdirSync, mkdtempSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { BerthServices, InstanceRecord, TaskContext } from '@berth/contract'
import { makeTestContext, makeTestInstance } from '@berth/contract/testing'
import { sharedDataSection } from '../src/index.js'

export function tempDir(prefix = 'berth-shared-'): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)))
}

/** Writes `files` (path -> content) below `dir`. */
export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
}

/** Every file and folder below `dir` (folders end with `/`), sorted. */
export function tree(dir: string, prefix = ''): string[] {
  const found: string[] = []
  for (const entry of readdirSync(join(dir, prefix))) {
    const path = prefix ? `${prefix}/${entry}` : entry
    if (statSync(join(dir, path)).isDirectory()) found.push(`${path}/`, ...tree(dir, path))
    else found.push(path)
  }
  return found.sort()
}

export interface ContextInput {
  root: string
  home: string
  sharedData?: unknown
  /** Parsed flag values, as steps see them. */
  flags?: Record<string, string | boolean | undefined>
  services?: BerthServices
}

/** A step context whose flags a test may still change before running the step. */
export type SharedTestContext = TaskContext & { logs: string[]; flags: Record<string, unknown> }

export function makeContext(input: ContextInput): SharedTestContext {
  const { logs: recorded, ...ctx } = makeTestContext({
    ...input,
    task: 'shared.init',
    project: 'sharedtest',
    config: [sharedDataSection],
    sections: { sharedData: input.sharedData },
  })
  // These tests read the log as lines, warnings prefixed as the CLI prints them.
  return Object.defineProperty(ctx, 'logs', {
    get: () =>
      recorded
        .filter((l) => l.level !== 'debug')
        .map((l) => (l.level === 'warn' ? `warning: ${l.message}` : l.message)),
  }) as SharedTestContext
}

export function makeInstance(id: string, path: string, slot: number | null = 1): InstanceRecord {
  return makeTestInstance(id, path, { slot, project: 'sharedtest' })
}
