import { execFileSync } from 'node:child_process'
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { InstanceRecord, Logger, ResolvedConfig, TaskContext } from '@berth/contract'
import { Redactor } from '@berth/contract'

/** The shared stand-in for the 1Password CLI. */
export const STANDIN_BIN = resolve(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/bin')

const made: string[] = []

/** A fresh temp dir (real path), removed by {@link cleanup}. */
export function tempDir(prefix = 'berth-secrets-'): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  made.push(dir)
  return dir
}

export function cleanup(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

export type StandinItems = Record<
  string,
  Record<string, string | { value?: string; type?: string; id?: string; section?: string }>
>

export interface Standin {
  env: NodeJS.ProcessEnv
  /** The argv of every call the stand-in received, in order. */
  calls(): { pid: number; argv: string[] }[]
  /** Raw text of the call log (to assert no value ever reached argv). */
  logText(): string
}

/** An environment with the stand-in `op` first on PATH, serving `items`. */
export function standinOp(items: StandinItems, extra: Record<string, string> = {}): Standin {
  const dir = tempDir('berth-secrets-op-')
  const itemsFile = join(dir, 'items.json')
  const logFile = join(dir, 'calls.jsonl')
  writeFileSync(itemsFile, JSON.stringify(items))
  const env: NodeJS.ProcessEnv = {
    ...withoutOp(process.env),
    PATH: [STANDIN_BIN, ...pathDirs(process.env)].join(delimiter),
    OP_STANDIN_ITEMS: itemsFile,
    OP_STANDIN_LOG: logFile,
    ...extra,
  }
  const logText = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '')
  return {
    env,
    logText,
    calls: () =>
      logText()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { pid: number; argv: string[] }),
  }
}

/** An environment whose PATH has no `op` at all. */
export function envWithoutOp(): NodeJS.ProcessEnv {
  return { ...withoutOp(process.env), PATH: pathDirs(process.env).join(delimiter) }
}

function pathDirs(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '' && dir !== STANDIN_BIN && !existsSync(join(dir, 'op')))
}

function withoutOp(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith('OP_')))
}

export interface RecordedLogger extends Logger {
  lines: { level: 'info' | 'warn' | 'debug'; message: string }[]
  warnings(): string[]
}

export function recordingLogger(): RecordedLogger {
  const lines: RecordedLogger['lines'] = []
  return {
    lines,
    info: (message) => lines.push({ level: 'info', message }),
    warn: (message) => lines.push({ level: 'warn', message }),
    debug: (message) => lines.push({ level: 'debug', message }),
    warnings: () => lines.filter((line) => line.level === 'warn').map((line) => line.message),
  }
}

export interface ContextOptions {
  secrets?: unknown
  flags?: TaskContext['args']['flags']
  instance?: Partial<InstanceRecord>
  root?: string
  home?: string
}

/** A TaskContext literal for step tests, with a recording logger. */
export function makeContext(options: ContextOptions = {}): TaskContext & { log: RecordedLogger } {
  const root = options.root ?? tempDir()
  const config: ResolvedConfig = {
    project: 'acme',
    root,
    file: null,
    sections: options.secrets === undefined ? {} : { secrets: options.secrets },
  }
  const instance: InstanceRecord | undefined = options.instance
    ? {
        id: 'acme-impl-x',
        project: 'acme',
        kind: 'impl',
        slot: 1,
        path: root,
        repo: root,
        createdByBerth: true,
        createdAt: new Date().toISOString(),
        ...options.instance,
      }
    : undefined
  return {
    task: 'sandbox.up',
    cwd: root,
    home: options.home ?? tempDir('berth-secrets-home-'),
    config,
    args: { positionals: [], flags: options.flags ?? {} },
    flags: options.flags ?? {},
    settings: undefined,
    exitCode: 0,
    log: recordingLogger(),
    redactor: new Redactor(),
    services: {},
    signal: new AbortController().signal,
    request: {},
    ...(instance ? { instance } : {}),
    env: {},
    secretEnv: {},
    output: {},
    state: {},
  }
}

/** A real git repository with one commit. */
export function gitRepo(): string {
  const dir = tempDir('berth-secrets-repo-')
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' })
  git('init', '-q', '-b', 'main')
  writeFileSync(join(dir, 'README.md'), '# acme\n')
  git('add', '.')
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'init')
  return dir
}

/** Paths of the files under `dir` whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = []
  const walk = (path: string) => {
    const stat = statSync(path, { throwIfNoEntry: false })
    if (!stat) return
    if (stat.isDirectory()) {
      for (const entry of readdirSync(path)) walk(join(path, entry))
    } else if (stat.isFile() && readFileSync(path).includes(needle)) {
      hits.push(path)
    }
  }
  walk(dir)
  return hits
}

/** Command lines of every process now running whose argv contains `needle`. */
export function processesWithArgv(needle: string): string[] {
  const hits: string[] = []
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (cmdline.includes(needle)) hits.push(`${pid}: ${cmdline.replaceAll('\0', ' ')}`)
    } catch {}
  }
  return hits
}

/** True while `pid` runs; a zombie (killed, not yet reaped) counts as gone. */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}
