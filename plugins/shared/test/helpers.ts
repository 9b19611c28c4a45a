import { mkdirSync, mkdtempSync, readdirSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { type BerthServices, type InstanceRecord, Redactor, type TaskContext } from '@berth/contract'

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
  flags?: Record<string, string | boolean | undefined>
  services?: BerthServices
}

export function makeContext(input: ContextInput): TaskContext & { logs: string[] } {
  const logs: string[] = []
  return {
    task: 'shared.init',
    cwd: input.root,
    home: input.home,
    config: { project: 'sharedtest', root: input.root, file: null, sections: { sharedData: input.sharedData } },
    args: { positionals: [], flags: input.flags ?? {} },
    log: {
      info: (message) => logs.push(message),
      warn: (message) => logs.push(`warning: ${message}`),
      debug: () => {},
    },
    redactor: new Redactor(),
    services: input.services ?? {},
    signal: new AbortController().signal,
    request: {},
    env: {},
    secretEnv: {},
    output: {},
    state: {},
    logs,
  }
}

export function makeInstance(id: string, path: string, slot: number | null = 1): InstanceRecord {
  return {
    id,
    project: 'sharedtest',
    kind: 'sandbox',
    slot,
    path,
    repo: path,
    createdByBerth: false,
    createdAt: new Date().toISOString(),
  }
}
