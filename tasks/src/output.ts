import { type BerthError, colour, type Logger, type Redactor } from '@berth/contract'

export { colour }

export interface OutputOptions {
  json: boolean
  verbose?: boolean
  quiet?: boolean
  redactor?: Redactor
}

export interface RunLogger extends Logger {
  stepStarted(step: string): void
  stepDone(step: string, ms: number): void
  stepFailed(step: string, ms: number): void
  stepUndone(step: string, error?: unknown): void
}

/**
 * Human progress goes to stderr (stdout carries the result, or the one `--json` document).
 * Every line passes through the redactor, so a secret never reaches a terminal or a log.
 */
export function createLogger(options: OutputOptions): RunLogger {
  const live = Boolean(process.stderr.isTTY) && !options.quiet && !process.env.CI
  let current: { step: string; started: number; timer: NodeJS.Timeout } | undefined
  const clearLive = () => {
    if (live && current) process.stderr.write('\r\u001b[2K')
  }
  const drawLive = () => {
    if (!current) return
    const seconds = ((monotonicMs() - current.started) / 1000).toFixed(1)
    process.stderr.write(`\r\u001b[2K${colour.dim('…')} ${current.step} ${colour.dim(`${seconds} s`)}`)
  }
  // Not a terminal: plain lines with a UTC timestamp, for CI logs and agents.
  const stamp = () => (live || process.stderr.isTTY ? '' : `${new Date().toISOString().slice(11, 23)} `)
  const write = (line: string) => {
    clearLive()
    process.stderr.write(`${stamp()}${options.redactor ? options.redactor.redact(line) : line}\n`)
    if (live && current) drawLive()
  }
  const info = (line: string) => {
    if (!options.quiet) write(line)
  }
  const stopLive = () => {
    if (!current) return
    clearInterval(current.timer)
    clearLive()
    current = undefined
  }
  return {
    stepStarted: (step) => {
      options.verbose && write(colour.dim(`→ ${step}`))
      if (!live) return
      stopLive()
      current = { step, started: monotonicMs(), timer: setInterval(drawLive, 100) }
      current.timer.unref()
      drawLive()
    },
    info,
    warn: (message) => write(`${colour.yellow('warning:')} ${message}`),
    debug: (message) => {
      if (options.verbose) write(colour.dim(message))
    },
    stepDone: (step, ms) => {
      stopLive()
      info(`${colour.green('✔')} ${step} ${colour.dim(`${ms} ms`)}`)
    },
    stepFailed: (step, ms) => {
      stopLive()
      write(`${colour.red('✖')} ${step} ${colour.dim(`${ms} ms`)}`)
    },
    stepUndone: (step, error) =>
      error
        ? write(`${colour.red('↺')} undo ${step} failed: ${(error as Error).message}`)
        : info(`${colour.yellow('↺')} undid ${step}`),
  }
}

/** Prints an error (human form on stderr, or the `--json` document) and returns its exit code. */
export function renderError(error: BerthError, options: OutputOptions): number {
  const redact = (text: string) => (options.redactor ? options.redactor.redact(text) : text)
  if (options.json) {
    const document = {
      ok: false,
      error: {
        code: error.code,
        exitCode: error.exitCode,
        message: error.message,
        hint: error.hint ?? null,
        step: error.step ?? null,
        details: error.details ?? null,
        undoErrors: undoErrorsOf(error).map((e) => e.message),
      },
    }
    const redacted = options.redactor ? options.redactor.redactValue(document) : document
    process.stdout.write(`${JSON.stringify(redacted, null, 2)}\n`)
    return error.exitCode
  }
  const lines = [`${colour.red('error:')} ${error.step ? `${error.step}: ` : ''}${error.message}`]
  const problems = (error.details?.problems as string[] | undefined) ?? []
  for (const problem of problems) lines.push(`  ${problem}`)
  if (error.hint) lines.push(`${colour.dim('hint:')} ${error.hint}`)
  for (const undo of undoErrorsOf(error)) lines.push(`${colour.red('also:')} ${undo.message}`)
  process.stderr.write(`${redact(lines.join('\n'))}\n`)
  return error.exitCode
}

function undoErrorsOf(error: BerthError): Error[] {
  return ((error as BerthError & { undoErrors?: Error[] }).undoErrors ?? []).filter(Boolean)
}

/** Milliseconds on the monotonic clock (not `performance.now()`: its global loads perf_hooks, issue 16). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}
