import { type BerthServices, Redactor, type TaskContext } from '@berth/contract'

export interface TestContextOptions {
  gate?: unknown
  flags?: TaskContext['args']['flags']
  env?: Record<string, string>
  services?: BerthServices
  signal?: AbortSignal
  secrets?: string[]
}

export interface RecordedLog {
  level: 'info' | 'warn' | 'debug'
  message: string
}

/** A TaskContext as the runner would build it for `gate.wait`, plus the log lines it received. */
export function makeContext(options: TestContextOptions = {}): { ctx: TaskContext; logs: RecordedLog[] } {
  const logs: RecordedLog[] = []
  const redactor = new Redactor()
  for (const secret of options.secrets ?? []) redactor.add(secret)
  const ctx: TaskContext = {
    task: 'gate',
    cwd: process.cwd(),
    home: '/nonexistent-berth-home',
    config: {
      project: 'gate-test',
      root: process.cwd(),
      file: null,
      sections: options.gate === undefined ? {} : { gate: options.gate },
    },
    args: { positionals: [], flags: options.flags ?? {} },
    flags: options.flags ?? {},
    settings: undefined,
    exitCode: 0,
    log: {
      info: (message) => logs.push({ level: 'info', message }),
      warn: (message) => logs.push({ level: 'warn', message }),
      debug: (message) => logs.push({ level: 'debug', message }),
    },
    redactor,
    services: options.services ?? {},
    signal: options.signal ?? new AbortController().signal,
    request: {},
    env: options.env ?? {},
    secretEnv: {},
    output: {},
    state: {},
  }
  return { ctx, logs }
}
