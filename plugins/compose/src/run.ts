import { spawn } from 'node:child_process'
import { bindGroupToSignal, InterruptedError, OperationError, type Redactor, UsageError } from '@berth/contract'
import type { ComposeFlavour } from './flavour.js'
import { LineSplitter, tailLines } from './lines.js'

/** Which compose project, files and profiles a command acts on. */
export interface ComposeTarget {
  project: string
  files: string[]
  profiles?: string[] | undefined
  /** `--project-directory`: where relative paths start (the user's folder, for a rendered file). */
  projectDirectory?: string | undefined
}

/**
 * Compose's argument vector for one command:
 * `-p <project> -f <file>… [--project-directory DIR] [--profile p]… <command>`.
 * Only names and paths go here; values (ports, secrets) travel in the environment.
 */
export function composeArgs(target: ComposeTarget, command: string[]): string[] {
  return [
    '-p',
    target.project,
    ...target.files.flatMap((file) => ['-f', file]),
    ...(target.projectDirectory ? ['--project-directory', target.projectDirectory] : []),
    ...(target.profiles ?? []).flatMap((profile) => ['--profile', profile]),
    ...command,
  ]
}

export interface RunComposeOptions {
  flavour: ComposeFlavour
  target: ComposeTarget
  cwd: string
  /** The whole environment of the compose process (see `composeEnvironment`). */
  env: NodeJS.ProcessEnv
  signal?: AbortSignal | undefined
  /** Each complete output line as it arrives (progress logging, streaming to a terminal). */
  onLine?: ((line: string, stream: 'stdout' | 'stderr') => void) | undefined
  /** Do not keep the output in memory (long `logs --follow`); `stdout`/`stderr` are then empty. */
  discardOutput?: boolean | undefined
  /** Give compose the terminal's stdin (so Ctrl-C reaches it as usual). */
  inheritStdin?: boolean | undefined
}

export interface ComposeResult {
  /** The full command as run, for diagnostics. Contains no environment values. */
  argv: string[]
  /** null when compose was killed by a signal. */
  exitCode: number | null
  /** True when the caller's signal aborted the command (Ctrl-C, SIGTERM) and compose was ended. */
  interrupted: boolean
  stdout: string
  stderr: string
}

/**
 * Runs one compose command: the executable itself with its argv (`child_process.spawn`, no shell
 * in between, so nothing is ever parsed by one; zx would cost its load and a bash per command).
 * Never throws for a non-zero exit: see {@link assertComposeOk}. Compose runs in its own process
 * group: when `signal` aborts, compose and its helpers are ended together, and this resolves only
 * once every one of them is gone.
 */
export function runCompose(command: string[], options: RunComposeOptions): Promise<ComposeResult> {
  const args = composeArgs(options.target, command)
  const argv = [...options.flavour.command, ...args]
  return new Promise((resolve) => {
    const stdout: string[] = []
    const stderr: string[] = []
    const onLine = options.onLine
    const splitters = {
      stdout: onLine ? new LineSplitter((line) => onLine(line, 'stdout')) : undefined,
      stderr: onLine ? new LineSplitter((line) => onLine(line, 'stderr')) : undefined,
    }
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: options.cwd,
      // PWD as a shell sets it for the folder compose runs in: a file's `${PWD}/src` is this
      // instance's checkout, not the folder berth happened to be started in.
      env: { ...options.env, PWD: options.cwd },
      detached: true,
      stdio: [options.inheritStdin ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    })
    for (const stream of ['stdout', 'stderr'] as const) {
      const kept = stream === 'stdout' ? stdout : stderr
      child[stream].setEncoding('utf8')
      child[stream].on('data', (chunk: string) => {
        if (!options.discardOutput) kept.push(chunk)
        splitters[stream]?.push(chunk)
      })
    }
    const group = bindGroupToSignal(child, options.signal)
    let failure: Error | undefined
    child.once('error', (error) => {
      failure = error
    })
    child.once('close', (code) => {
      splitters.stdout?.flush()
      splitters.stderr?.flush()
      // A compose that could not start at all (ENOENT, EACCES) answers like a shell would: 127.
      if (failure) stderr.push(`${argv[0]}: ${failure.message}\n`)
      void group.settle().then(() =>
        resolve({
          argv,
          exitCode: failure ? 127 : code,
          stdout: stdout.join(''),
          stderr: stderr.join(''),
          interrupted: options.signal?.aborted === true,
        }),
      )
    })
  })
}

/**
 * Throws an {@link OperationError} (exit 1) for a failed compose command, with the tail of
 * compose's output, redacted.
 */
export function assertComposeOk(result: ComposeResult, what: string, redactor: Redactor): void {
  if (result.exitCode === 0) return
  if (result.interrupted) throw new InterruptedError(`interrupted: ${what} was stopped`)
  const tail = redactor.redact(tailLines(`${result.stderr}\n${result.stdout}`, 20))
  const status = result.exitCode === null ? 'was killed' : `exited ${result.exitCode}`
  const refused = inputRefusal(tail)
  if (refused) {
    // Compose refused the files before it made anything: the user's input, not an operation, failed.
    throw new UsageError(`${what} failed: compose refused the files:\n${tail}`, {
      code: 'E_COMPOSE_INPUT',
      hint: refused,
      details: { exitCode: result.exitCode, output: tail },
    })
  }
  throw new OperationError(`${what} failed (compose ${status})${tail ? `:\n${tail}` : ''}`, {
    code: 'E_COMPOSE',
    hint: composeFailureHint(tail),
    details: { exitCode: result.exitCode, output: tail },
  })
}

/**
 * The hint for a failure that is the files' own (a `${X:?…}` variable missing, a key compose does
 * not accept, an `env_file` that is not there), as Compose v2 and v1 word it; undefined otherwise.
 */
export function inputRefusal(output: string): string | undefined {
  if (/required variable \S+ is missing a value|Missing mandatory value for/.test(output)) {
    return "set the variable in the project's .env or berth's environment, or add it to ports in the berth config (a port of each instance)"
  }
  if (/^validating \S+: |The Compose file '[^']*' is invalid because/m.test(output)) {
    return "a key or value compose does not accept (a typo, or syntax this compose version does not know): fix it in your compose files (the file named is berth's rendered copy of them: 'berth compose config' shows it)"
  }
  if (/env file \S+ not found|Couldn't find env file/.test(output)) {
    return 'the env_file is not in this checkout (a file git ignores stays in the checkout it was made in): list it in worktree.copy in the berth config (copied from the main checkout into each new worktree), commit it (without secrets), or make it optional (env_file: [{ path: FILE, required: false }], Compose 2.24 and later)'
  }
  return undefined
}

/** What to do about a failed compose command, from what compose said. */
export function composeFailureHint(output: string): string {
  if (/address pool|non-overlapping IPv4 address pool|no available network/i.test(output)) {
    return "the Docker engine has no free address range for another network: 'berth doctor' lists orphan stacks ('berth doctor --fix' removes them) and 'berth sandbox list' the instances to finish with 'berth done'; or give the engine more ranges (default-address-pools in /etc/docker/daemon.json)"
  }
  return 'read compose’s output above; `berth sandbox logs` shows the services’ own logs'
}
