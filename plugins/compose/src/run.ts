import { OperationError, type Redactor } from '@berth/contract'
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
  stdout: string
  stderr: string
}

/** Runs one compose command through zx. Never throws for a non-zero exit: see {@link assertComposeOk}. */
export async function runCompose(command: string[], options: RunComposeOptions): Promise<ComposeResult> {
  const args = composeArgs(options.target, command)
  const argv = [...options.flavour.command, ...args]
  const { $ } = await import('zx/core')
  const child = $({
    cwd: options.cwd,
    env: options.env,
    signal: options.signal,
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
  const output = await child
  for (const [, splitter] of splitters) splitter.flush()
  return { argv, exitCode: output.exitCode, stdout: output.stdout, stderr: output.stderr }
}

/**
 * Throws an {@link OperationError} (exit 1) for a failed compose command, with the tail of
 * compose's output, redacted.
 */
export function assertComposeOk(result: ComposeResult, what: string, redactor: Redactor): void {
  if (result.exitCode === 0) return
  const tail = redactor.redact(tailLines(`${result.stderr}\n${result.stdout}`, 20))
  const status = result.exitCode === null ? 'was killed' : `exited ${result.exitCode}`
  throw new OperationError(`${what} failed (compose ${status})${tail ? `:\n${tail}` : ''}`, {
    code: 'E_COMPOSE',
    hint: 'read compose’s output above; `berth sandbox logs` shows the services’ own logs',
    details: { exitCode: result.exitCode, output: tail },
  })
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
