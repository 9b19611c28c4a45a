import type { BerthServices, InstanceRecord, RepoInfo, TaskContext } from '@berth/contract'
import { Redactor } from '@berth/contract'

export interface RecordedLog {
  level: 'info' | 'warn' | 'debug'
  message: string
}

export interface ContextInput {
  root: string
  project?: string
  instance?: InstanceRecord
  env?: Record<string, string>
  secretEnv?: Record<string, string>
  flags?: Record<string, string | boolean | undefined>
  positionals?: string[]
  compose?: unknown
  services?: BerthServices
  repo?: RepoInfo
  task?: string
}

/** A plain TaskContext for step tests; `logs` records what the step logged. */
export function makeContext(input: ContextInput): TaskContext & { logs: RecordedLog[] } {
  const logs: RecordedLog[] = []
  const redactor = new Redactor()
  for (const value of Object.values(input.secretEnv ?? {})) redactor.add(value)
  return {
    task: input.task ?? 'test',
    cwd: input.root,
    home: input.root,
    config: { project: input.project ?? 'demo', root: input.root, file: null, sections: { compose: input.compose } },
    args: { positionals: input.positionals ?? [], flags: input.flags ?? {} },
    log: {
      info: (message) => logs.push({ level: 'info', message }),
      warn: (message) => logs.push({ level: 'warn', message }),
      debug: (message) => logs.push({ level: 'debug', message }),
    },
    redactor,
    services: input.services ?? {},
    signal: new AbortController().signal,
    request: {},
    repo: input.repo ?? { root: input.root, checkout: input.root, isWorktree: false },
    ...(input.instance ? { instance: input.instance } : {}),
    env: input.env ?? {},
    secretEnv: input.secretEnv ?? {},
    output: {},
    state: {},
    logs,
  }
}

export function makeInstance(id: string, path: string, slot: number | null = 1): InstanceRecord {
  return {
    id,
    project: 'demo',
    kind: 'sandbox',
    slot,
    path,
    repo: path,
    createdByBerth: false,
    createdAt: new Date().toISOString(),
  }
}
