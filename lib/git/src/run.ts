import { accessSync, constants, existsSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { bindGroupToSignal, EnvironmentError, endProcessGroup, OperationError } from '@berth/contract'

/** What one git process printed and how it ended. */
export interface GitResult {
  stdout: string
  stderr: string
  /** null when the process was killed (timeout, abort). */
  exitCode: number | null
}

export interface GitOptions {
  /** Resolve instead of throwing when git exits non-zero. */
  allowFailure?: boolean
  signal?: AbortSignal | undefined
  /** Milliseconds; the process (and what it started) is ended after this. */
  timeout?: number
  /** Extra environment for this call. */
  env?: Record<string, string>
}

/**
 * Variables that would point git at another repository than the folder we name with `-C`
 * (they are set inside git hooks, for instance).
 */
const REPOSITORY_OVERRIDES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY']

const NO_GIT = () =>
  new EnvironmentError('git is not installed or not on PATH', {
    code: 'E_NO_GIT',
    hint: 'install git (2.31 or newer) and make sure `git --version` works in this shell',
  })

/**
 * Throws E_NO_GIT (exit 4) unless an executable `git` is on PATH — by looking at the folders, not
 * by starting it (repository detection reads files, issue 16, but a command that will run git
 * must still refuse before it changes anything when there is none).
 */
export function assertGitOnPath(): void {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, process.platform === 'win32' ? 'git.exe' : 'git'), constants.X_OK)
      return
    } catch {
      // not here
    }
  }
  throw NO_GIT()
}

/**
 * Runs `git -C <dir> <args…>`: the one way berth runs git. Arguments go to git as an argument
 * vector (never through a shell), the process runs with `dir` as its cwd, without the variables
 * that would point it at another repository, and never prompts. Throws EnvironmentError when git
 * or `dir` is missing, and OperationError on a non-zero exit unless `allowFailure`.
 *
 * git runs in its own process group: when `signal` aborts (Ctrl-C, SIGTERM), git and everything
 * it started (hooks) are ended together, and this resolves (exit code null) only once all of them
 * are gone — so the caller's rollback never races a hook still writing into the worktree.
 */
export async function runGit(dir: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  if (!existsSync(dir)) {
    throw new EnvironmentError(`cannot run git in ${dir}: the folder does not exist or is not accessible`, {
      code: 'E_NO_DIR',
    })
  }
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env }
  for (const name of REPOSITORY_OVERRIDES) delete env[name]
  // Loaded on first use: a command that only reads files never loads child_process (issue 16).
  const { spawn } = await import('node:child_process')
  const child = spawn('git', ['-C', dir, ...args], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const group = bindGroupToSignal(child, options.signal)
  const stdout: Buffer[] = []
  const stderr: Buffer[] = []
  child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  let timedOut = false
  const timer =
    options.timeout === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          if (child.pid !== undefined) void endProcessGroup(child.pid)
        }, options.timeout)
  let exitCode: number | null
  try {
    exitCode = await new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (code, signal) => resolve(signal !== null || timedOut ? null : code))
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw NO_GIT()
    }
    throw error
  } finally {
    if (timer) clearTimeout(timer)
    await group.settle()
  }
  const result: GitResult = {
    stdout: Buffer.concat(stdout).toString('utf8'),
    stderr: Buffer.concat(stderr).toString('utf8'),
    exitCode,
  }
  if (result.exitCode !== 0 && !options.allowFailure) {
    throw new OperationError(
      `git ${args.join(' ')} failed in ${dir}: ${firstLine(result.stderr) || describeEnd(result)}`,
      {
        code: 'E_GIT',
        details: { dir, args: [...args], exitCode: result.exitCode, stderr: result.stderr.trim() },
      },
    )
  }
  return result
}

/** The trimmed output lines, without empty ones. */
export function outputLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
}

export function firstLine(text: string): string {
  return outputLines(text)[0] ?? ''
}

function describeEnd(result: GitResult): string {
  return result.exitCode === null ? 'killed (timeout or abort)' : `exit code ${result.exitCode}`
}
