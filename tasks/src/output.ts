import { fstatSync, writeSync } from 'node:fs'
import { type BerthError, colour, isTerminal, type Logger, type Redactor } from '@berth/contract'

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
  const live = isTerminal(2) && !options.quiet && !process.env.CI
  let current: { step: string; started: number; timer: NodeJS.Timeout } | undefined
  const clearLive = () => {
    if (live && current) writeFd(2, '\r\u001b[2K')
  }
  const drawLive = () => {
    if (!current) return
    const seconds = ((monotonicMs() - current.started) / 1000).toFixed(1)
    writeFd(2, `\r\u001b[2K${colour.dim('…')} ${current.step} ${colour.dim(`${seconds} s`)}`)
  }
  // Not a terminal: plain lines with a UTC timestamp, for CI logs and agents.
  const stamp = () => (live || isTerminal(2) ? '' : `${new Date().toISOString().slice(11, 23)} `)
  const write = (line: string) => {
    clearLive()
    writeFd(2, `${stamp()}${options.redactor ? options.redactor.redact(line) : line}\n`)
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
    writeFd(1, `${JSON.stringify(redacted, null, 2)}\n`)
    return error.exitCode
  }
  const lines = [`${colour.red('error:')} ${error.step ? `${error.step}: ` : ''}${error.message}`]
  const problems = (error.details?.problems as string[] | undefined) ?? []
  for (const problem of problems) lines.push(`  ${problem}`)
  if (error.hint) lines.push(`${colour.dim('hint:')} ${error.hint}`)
  for (const undo of undoErrorsOf(error)) lines.push(`${colour.red('also:')} ${undo.message}`)
  writeFd(2, `${redact(lines.join('\n'))}\n`)
  return error.exitCode
}

function undoErrorsOf(error: BerthError): Error[] {
  return ((error as BerthError & { undoErrors?: Error[] }).undoErrors ?? []).filter(Boolean)
}

/** Milliseconds on the monotonic clock (not `performance.now()`: its global loads perf_hooks, issue 16). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}

/**
 * Writes to stdout (1) or stderr (2). To a pipe or a file it writes the descriptor directly:
 * creating `process.stdout`/`stderr` loads node:net and the stream modules, a few ms of a command
 * an agent runs in a loop (issue 16). On Linux process.stdout/stderr write pipes and files
 * synchronously too, so lines written either way never reorder. A terminal, or a pipe that would
 * block (EAGAIN), goes through the stream.
 */
export function writeFd(fd: 1 | 2, text: string): void {
  if (!isTerminal(fd) && isPipeOrFile(fd)) {
    const bytes = Buffer.from(text)
    let offset = 0
    try {
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset)
      return
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EPIPE') return // the reader went away (berth … | head): nothing left to tell it
      if (code !== 'EAGAIN') throw error
      text = bytes.subarray(offset).toString()
    }
  }
  ;(fd === 1 ? process.stdout : process.stderr).write(text)
}

const pipesOrFiles = new Map<number, boolean>()
function isPipeOrFile(fd: number): boolean {
  let known = pipesOrFiles.get(fd)
  if (known === undefined) {
    try {
      const stat = fstatSync(fd)
      known = process.platform === 'linux' && (stat.isFIFO() || stat.isFile())
    } catch {
      known = false
    }
    pipesOrFiles.set(fd, known)
  }
  return known
}
