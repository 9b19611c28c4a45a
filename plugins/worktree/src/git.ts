import { bindGroupToSignal, EnvironmentError, OperationError } from '@berth/contract'

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
  /** Milliseconds; the process is killed after this. */
  timeout?: number
  /** Extra environment for this call. */
  env?: Record<string, string>
}

/**
 * Variables that would point git at another repository than the folder we name with `-C`
 * (they are set inside git hooks, for instance).
 */
const REPOSITORY_OVERRIDES = ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR', 'GIT_OBJECT_DIRECTORY']

/**
 * Runs `git -C <dir> <args…>`. Arguments are passed through zx, which quotes each one, so user
 * input never becomes shell syntax. The process also runs with `dir` as its cwd, so a deleted
 * process cwd cannot break it. Throws EnvironmentError when git or `dir` is missing, and
 * OperationError on a non-zero exit unless `allowFailure`.
 *
 * git runs in its own process group: when `signal` aborts (Ctrl-C, SIGTERM), git and everything
 * it started (hooks) are ended together, and this resolves (exit code null) only once all of them
 * are gone — so the caller's rollback never races a hook still writing into the worktree.
 */
export async function runGit(dir: string, args: readonly string[], options: GitOptions = {}): Promise<GitResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_TERMINAL_PROMPT: '0', ...options.env }
  for (const name of REPOSITORY_OVERRIDES) delete env[name]
  // zx is loaded on first use, so commands that never run git do not pay for it at start-up.
  const { $ } = await import('zx/core')
  const child = $({
    cwd: dir,
    env,
    quiet: true,
    nothrow: true,
    verbose: false,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.timeout ? { timeout: options.timeout } : {}),
  })`git -C ${dir} ${args}`
  const group = bindGroupToSignal(child, options.signal)
  let output: Awaited<typeof child>
  try {
    output = await child
  } finally {
    await group.settle()
  }
  const result: GitResult = { stdout: output.stdout, stderr: output.stderr, exitCode: output.exitCode }
  if (result.exitCode === 127) {
    throw new EnvironmentError('git is not installed or not on PATH', {
      code: 'E_NO_GIT',
      hint: 'install git (2.31 or newer) and make sure `git --version` works in this shell',
    })
  }
  if (result.exitCode !== null && result.exitCode < 0) {
    throw new EnvironmentError(`cannot run git in ${dir}: the folder does not exist or is not accessible`, {
      code: 'E_NO_DIR',
    })
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
