import { type BerthError, InterruptedError, type Plugin, type TaskContext } from '@berth/contract'
import { type OutputOptions, type RunLogger, renderError } from './output.js'
import type { PipelineError, PipelineProgress, StepTiming } from './runner.js'

/**
 * Ctrl-C and SIGTERM while a command runs. The first signal aborts the run: git and compose (in
 * their own process groups) are ended with everything they started, the failing step cleans up
 * after itself and the runner undoes the completed steps — the command then exits 130 saying what
 * was rolled back. A second signal does not abandon that rollback: berth says it is finishing
 * it. A third stops at once, printing what is left (the registry claim made first names it) and
 * that `berth doctor --fix` removes it.
 */
export interface InterruptWatch {
  readonly signal: AbortSignal
  readonly progress: PipelineProgress
  /** The first signal received, if any. */
  received(): NodeJS.Signals | undefined
  dispose(): void
}

export function watchInterrupts(
  log: RunLogger,
  output: OutputOptions,
  context: () => TaskContext | undefined,
  plugins: () => Plugin[],
): InterruptWatch {
  const abort = new AbortController()
  const progress: PipelineProgress = { phase: 'validate', pending: [] }
  let first: NodeJS.Signals | undefined
  let count = 0
  const onSignal = (signal: NodeJS.Signals) => {
    count++
    if (count === 1) {
      first = signal
      if (progress.phase === 'run' || progress.phase === 'validate') {
        log.warn(`interrupted (${signal}): stopping; what this run made is rolled back before berth exits`)
      }
      abort.abort(signal)
      return
    }
    if (count === 2 && progress.phase !== 'done') {
      log.warn(
        `interrupted again: berth is ${progress.phase === 'rollback' ? 'rolling back' : 'stopping'} so that nothing is left behind${progress.current ? ` (now: ${progress.current})` : ''}; interrupt once more to stop at once and leave the rest to 'berth doctor --fix'`,
      )
      return
    }
    if (count === 2) {
      log.warn('interrupted again: berth is finishing up; interrupt once more to exit now')
      return
    }
    const left = leftBehind(progress)
    const ctx = context()
    const instance = ctx?.instance
    // Recorded (synchronously) for `doctor --fix`, which finishes the rollback later.
    if (ctx && left.length > 0) {
      for (const plugin of plugins()) {
        try {
          plugin.abandon?.(ctx, left)
        } catch {
          // berth is exiting; the message below still names what is left
        }
      }
    }
    const where = instance ? ` by ${instance.id} (${instance.path})` : ''
    const error = new InterruptedError(
      left.length > 0
        ? `interrupted (${first ?? signal}) during the rollback; left behind${where}: ${left.join(', ')} (recorded for 'berth doctor --fix')`
        : `interrupted (${first ?? signal}); nothing is left behind`,
      {
        ...(left.length > 0
          ? {
              hint: "run 'berth doctor --fix': it finishes this rollback (it removes only what berth made, never unpushed work)",
            }
          : {}),
        details: { signal: first ?? signal, leftBehind: left },
      },
    )
    process.exit(renderError(error, output))
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  return {
    signal: abort.signal,
    progress,
    received: () => first,
    dispose() {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    },
  }
}

/** The step running now and the completed steps not undone yet, newest first. */
function leftBehind(progress: PipelineProgress): string[] {
  const pending = [...progress.pending].reverse()
  // While running, the current step may have made part of what it makes; while rolling back, the
  // step being undone is still in `pending` until its undo succeeds.
  return progress.phase === 'run' && progress.current ? [progress.current, ...pending] : pending
}

/**
 * The error an interrupted run exits with (130): which step was stopped, what was rolled back and
 * what, if anything, could not be (with the original error and undo failures attached).
 */
export function interruptedError(
  signal: NodeJS.Signals,
  error: BerthError,
  options: { keep: boolean; pending: string[] },
): InterruptedError {
  const timings: StepTiming[] = (error as PipelineError).timings ?? []
  const undone = timings.filter((t) => t.status === 'undone').map((t) => t.step)
  const failed = timings.filter((t) => t.status === 'undo-failed').map((t) => t.step)
  const kept = options.keep ? [...options.pending].reverse() : []
  const during = error.step ? ` during ${error.step}` : ''
  const parts = [`interrupted (${signal})${during}`]
  if (undone.length > 0) parts.push(`rolled back ${undone.join(', ')}`)
  if (kept.length > 0) parts.push(`kept (--keep-on-failure): ${kept.join(', ')}`)
  if (failed.length > 0) parts.push(`could not roll back ${failed.join(', ')}`)
  else if (undone.length > 0 && kept.length === 0) parts.push('nothing is left behind')
  const interrupted = new InterruptedError(parts.join('; '), {
    ...(failed.length > 0 || kept.length > 0
      ? { hint: "run 'berth doctor' to see what is left and 'berth doctor --fix' to remove what is safe to remove" }
      : {}),
    cause: error,
    details: {
      signal,
      step: error.step ?? null,
      rolledBack: undone,
      leftBehind: [...failed, ...kept],
      ...(error.code !== 'E_INTERRUPTED' ? { stoppedWith: error.message } : {}),
    },
  })
  interrupted.step = error.step
  ;(interrupted as PipelineError).timings = timings
  ;(interrupted as PipelineError).undoErrors = (error as PipelineError).undoErrors ?? []
  return interrupted
}
