import type { BerthServices, InstanceRecord, RepoInfo, TaskContext, TaskRequest } from '@berth/contract'
import { Redactor } from '@berth/contract'

export interface LogLine {
  level: 'info' | 'warn' | 'debug'
  message: string
}

export interface ContextOptions {
  task: string
  cwd: string
  project?: string
  /** Config root; defaults to the cwd. */
  root?: string
  repo?: RepoInfo
  request?: TaskRequest
  flags?: Record<string, string | boolean | undefined>
  positionals?: string[]
  worktree?: unknown
  instance?: InstanceRecord
  services?: BerthServices
}

/** A TaskContext as the runner would build it, with every log line recorded. */
export function makeContext(options: ContextOptions): { ctx: TaskContext; logs: LogLine[] } {
  const logs: LogLine[] = []
  const ctx: TaskContext = {
    task: options.task,
    cwd: options.cwd,
    home: options.cwd,
    config: {
      project: options.project ?? 'acme',
      root: options.root ?? options.cwd,
      file: null,
      sections: { worktree: options.worktree },
    },
    args: { positionals: options.positionals ?? [], flags: options.flags ?? {} },
    flags: options.flags ?? {},
    settings: undefined,
    exitCode: 0,
    log: {
      info: (message) => logs.push({ level: 'info', message }),
      warn: (message) => logs.push({ level: 'warn', message }),
      debug: (message) => logs.push({ level: 'debug', message }),
    },
    redactor: new Redactor(),
    services: options.services ?? {},
    signal: new AbortController().signal,
    request: options.request ?? {},
    ...(options.repo ? { repo: options.repo } : {}),
    ...(options.instance ? { instance: options.instance } : {}),
    env: {},
    secretEnv: {},
    output: {},
    state: {},
  }
  return { ctx, logs }
}

/** The registry record `worktree.plan` would have produced for a berth-made checkout. */
export function recordFor(path: string, repo: string, overrides: Partial<InstanceRecord> = {}): InstanceRecord {
  return {
    id: 'acme-impl-x',
    project: 'acme',
    kind: 'impl',
    slot: 1,
    path,
    repo,
    branch: 'impl/x',
    createdByBerth: true,
    createdAt: new Date().toISOString(),
    ...overrides,
  }
}

export function repoInfo(root: string): RepoInfo {
  return { root, checkout: root, isWorktree: false }
}
