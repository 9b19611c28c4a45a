import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import { importExternal } from '@berth/contract'

/** How every `op` call is made: which environment (PATH finds `op`), how long it may take. */
export interface OpCallOptions {
  /** Environment of the `op` process; its PATH is where `op` is looked for. Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Milliseconds before the call is killed. Default 15 000. */
  timeoutMs?: number
  /** Aborts (kills) the call, e.g. when the user presses Ctrl-C. */
  signal?: AbortSignal
  /** Use this `op` executable instead of looking it up on PATH. */
  opPath?: string
}

export interface OpCallResult {
  exitCode: number | null
  /** Holds secret values for `item get`: parse it, never log it. */
  stdout: string
  stderr: string
  timedOut: boolean
}

export const DEFAULT_OP_TIMEOUT_MS = 15_000

/** The absolute path of `name` on the PATH of `env`, or null when it is not there. */
export function findExecutable(name: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dirs = (env.PATH ?? '').split(delimiter).filter((dir) => dir !== '' && isAbsolute(dir))
  for (const dir of dirs) {
    const candidate = join(dir, name)
    try {
      if (!statSync(candidate).isFile()) continue
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }
  return null
}

/** The `op` executable the calls will run, or null when it is not installed on PATH. */
export function findOp(options: Pick<OpCallOptions, 'env' | 'opPath'> = {}): string | null {
  return options.opPath ?? findExecutable('op', options.env ?? process.env)
}

/**
 * Runs `op ARGS` through zx with stdin closed (so a signed-out `op` cannot sit waiting for a
 * password) and a hard deadline: a call that outlives `timeoutMs` is killed with SIGKILL, the
 * whole process tree. Arguments carry names only (item, vault, account); values come back on
 * stdout and are never echoed: zx's logging is switched off for these calls whatever ZX_* says.
 */
export async function runOp(opPath: string, args: string[], options: OpCallOptions = {}): Promise<OpCallResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_OP_TIMEOUT_MS
  const started = Date.now()
  const { $ } = await importExternal('zx/core', () => import('zx/core'))
  const op = $({
    env: options.env ?? process.env,
    timeout: timeoutMs,
    timeoutSignal: 'SIGKILL',
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
    nothrow: true,
    quiet: true,
    verbose: false,
    log: () => {},
    ...(options.signal ? { signal: options.signal } : {}),
  })
  const output = await op`${opPath} ${args}`
  const killed = output.signal === 'SIGKILL' || output.exitCode === null
  return {
    exitCode: output.exitCode,
    stdout: output.stdout,
    stderr: output.stderr,
    timedOut: killed && !options.signal?.aborted && Date.now() - started >= timeoutMs,
  }
}

/**
 * The human part of an `op` error: `[ERROR] 2024/05/01 12:00:00 account is not signed in`
 * -> `account is not signed in`. Only stderr is used; stdout may hold values.
 */
export function opErrorText(result: Pick<OpCallResult, 'stderr' | 'exitCode'>): string {
  const line = result.stderr
    .split('\n')
    .map((text) => text.trim())
    .find((text) => text !== '')
  if (line === undefined) return `op exited with code ${result.exitCode ?? 'unknown'}`
  return line.replace(/^\[ERROR\]\s*(\d{4}\/\d{2}\/\d{2} \d{2}:\d{2}:\d{2}\s*)?/, '').slice(0, 300)
}
