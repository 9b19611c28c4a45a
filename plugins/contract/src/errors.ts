/**
 * Errors are data: a code for machines, a message and a hint for humans, and the exit code the
 * CLI entry maps them to. Plugins throw these; only the CLI turns them into exit codes.
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4 | 130

export interface BerthErrorOptions {
  hint?: string
  cause?: unknown
  /** Extra machine-readable facts (holder pid, candidate names…), copied into `--json` output. */
  details?: Record<string, unknown>
}

export class BerthError extends Error {
  readonly code: string
  readonly exitCode: ExitCode
  readonly hint: string | undefined
  readonly details: Record<string, unknown> | undefined
  /** The step that was running when this error was raised; set by the runner. */
  step: string | undefined

  constructor(code: string, exitCode: ExitCode, message: string, options: BerthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    // A plugin's own subclass is named after its class; berth's own set theirs below.
    this.name = new.target === BerthError ? 'BerthError' : new.target.name
    this.code = code
    this.exitCode = exitCode
    this.hint = options.hint
    this.details = options.details
    this.step = undefined
  }
}

/** Exit 1: the operation itself failed (gate failed, compose failed, registry unreadable). */
export class OperationError extends BerthError {
  // Named here, not by the class's own name: berth's bundle renames its classes (minified).
  override readonly name: string = 'OperationError'
  constructor(message: string, options?: BerthErrorOptions & { code?: string }) {
    super(options?.code ?? 'E_FAILED', 1, message, options)
  }
}

/** Exit 2: bad flags, bad names, bad config. Nothing has been changed when this is thrown. */
export class UsageError extends BerthError {
  override readonly name: string = 'UsageError'
  constructor(message: string, options?: BerthErrorOptions & { code?: string }) {
    super(options?.code ?? 'E_USAGE', 2, message, options)
  }
}

/** Exit 2: the config file is invalid; `problems` lists every `path: message`. */
export class ConfigError extends BerthError {
  override readonly name: string = 'ConfigError'
  readonly problems: string[]
  constructor(message: string, problems: string[], options?: BerthErrorOptions) {
    super('E_CONFIG', 2, message, { ...options, details: { problems, ...options?.details } })
    this.problems = problems
  }
}

/** Exit 3: something else holds what we need (slot, port, name) or work would be lost. */
export class ConflictError extends BerthError {
  override readonly name: string = 'ConflictError'
  constructor(message: string, options?: BerthErrorOptions & { code?: string }) {
    super(options?.code ?? 'E_CONFLICT', 3, message, options)
  }
}

/** Exit 4: the environment lacks something berth needs (Docker engine, git, a repository). */
export class EnvironmentError extends BerthError {
  override readonly name: string = 'EnvironmentError'
  constructor(message: string, options?: BerthErrorOptions & { code?: string }) {
    super(options?.code ?? 'E_ENVIRONMENT', 4, message, options)
  }
}

/**
 * Exit 130 (128 + SIGINT, as shells report Ctrl-C): the user interrupted the command (SIGINT or
 * SIGTERM). The message says so and what the rollback left, if anything.
 */
export class InterruptedError extends BerthError {
  override readonly name: string = 'InterruptedError'
  constructor(message = 'interrupted', options?: BerthErrorOptions) {
    super('E_INTERRUPTED', 130, message, options)
  }
}

/**
 * True for a berth error from any copy of this package: a plugin loaded from its own folder brings
 * its own `@berth/contract`, whose classes are not the runner's, yet its exit codes must hold.
 */
export function isBerthError(error: unknown): error is BerthError {
  if (error instanceof BerthError) return true
  const candidate = error as Partial<BerthError> | null
  return (
    error instanceof Error &&
    typeof candidate?.code === 'string' &&
    typeof candidate.exitCode === 'number' &&
    [1, 2, 3, 4, 130].includes(candidate.exitCode)
  )
}
