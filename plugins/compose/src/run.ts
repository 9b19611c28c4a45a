import { bindGroupToSignal, InterruptedError, OperationError, type Redactor } from '@berth/contract'
import type { ComposeFlavour } from './flavour.js'
import { LineSplitter, tailLines } from './lines.js'

/** Which compose project, files and profiles a command acts on. */
export interface ComposeTarget {
  project: string
  files: string[]
  profiles?: string[] | undefined
}

/**
 * Compose's argument vector for one command: `-p <project> -f <file>… [--profile p]… <command>`.
 * Only names and paths go here; values (ports, secrets) travel in the environment.
 */
export function composeArgs(target: ComposeTarget, command: string[]): string[] {
  return [
    '-p',
    target.project,
    ...target.files.flatMap((file) => ['-f', file]),
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
 * Runs one compose command through zx. Never throws for a non-zero exit: see {@link assertComposeOk}.
 * Compose runs in its own process group: when `signal` aborts, compose and its helpers are ended
 * together, and this resolves only once every one of them is gone.
 */
export async function runCompose(command: string[], options: RunComposeOptions): Promise<ComposeResult> {
  const args = composeArgs(options.target, command)
  const argv = [...options.flavour.command, ...args]
  const { $ } = await import('zx/core')
  const child = $({
    cwd: options.cwd,
    env: options.env,
    detached: true,
    quiet: true,
    verbose: false,
    nothrow: true,
    stdio: [options.inheritStdin ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    ...(options.discardOutput ? { store: discardingStore() } : {}),
  })`${argv}`
  const onLine = options.onLine
  const splitters = onLine
    ? ([
        ['stdout', new LineSplitter((line) => onLine(line, 'stdout'))],
        ['stderr', new LineSplitter((line) => onLine(line, 'stderr'))],
      ] as const)
    : []
  for (const [stream, splitter] of splitters) child[stream].on('data', (chunk: Buffer) => splitter.push(chunk))
  const group = bindGroupToSignal(child, options.signal)
  let output: Awaited<typeof child>
  try {
    output = await child
  } finally {
    await group.settle()
  }
  for (const [, splitter] of splitters) splitter.flush()
  return {
    argv,
    exitCode: output.exitCode,
    stdout: output.stdout,
    stderr: output.stderr,
    interrupted: options.signal?.aborted === true,
  }
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
  throw new OperationError(`${what} failed (compose ${status})${tail ? `:\n${tail}` : ''}`, {
    code: 'E_COMPOSE',
    hint: composeFailureHint(tail),
    details: { exitCode: result.exitCode, output: tail },
  })
}

/** What to do about a failed compose command, from what compose said. */
export function composeFailureHint(output: string): string {
  if (/address pool|non-overlapping IPv4 address pool|no available network/i.test(output)) {
    return "the Docker engine has no free address range for another network: 'berth doctor' lists orphan stacks ('berth doctor --fix' removes them) and 'berth sandbox list' the instances to finish with 'berth done'; or give the engine more ranges (default-address-pools in /etc/docker/daemon.json)"
  }
  return 'read compose’s output above; `berth sandbox logs` shows the services’ own logs'
}

/** Chunk lists that keep nothing, so a long-running stream does not grow in memory. */
function discardingStore() {
  class DiscardedChunks extends Array<string | Buffer> {
    override push(): number {
      return 0
    }
  }
  return { stdout: new DiscardedChunks(), stderr: new DiscardedChunks(), stdall: new DiscardedChunks() }
}
