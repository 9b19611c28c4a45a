import { setTimeout as sleep } from 'node:timers/promises'
import { AttemptTimeout, describeError } from './attempt.js'
import type { GateCheck } from './checks.js'
import { ProbeError } from './probe-error.js'
import { DecisiveFailure } from './probe-healthy.js'
import type { CheckResult } from './report.js'

/**
 * Adaptive polling: the first retry comes quickly, later ones back off. Never a fixed 2 s.
 * While a stack is starting (the first `patientAfterMs`) retries stay at most `busyRetryMs` apart,
 * so a service is seen within ~0.15 s of becoming ready (~60 ms on average); a check still failing after that backs
 * off to `maxRetryMs`, where a probe a second costs nothing worth mentioning.
 */
export const POLL = {
  firstRetryMs: 50,
  backoff: 1.5,
  busyRetryMs: 120,
  patientAfterMs: 30_000,
  maxRetryMs: 1000,
  /** One attempt never takes longer than this (a hung server cannot eat the whole deadline). */
  maxAttemptMs: 2000,
  /**
   * Even at the deadline an attempt gets this long, so every started check gets a fair try; the
   * gate can end this much after its deadline at worst.
   */
  minAttemptMs: 250,
  /**
   * A failure waiting cannot fix (a refused password) fails the check once it has held this long,
   * instead of at the deadline: long enough for a server still finishing its start.
   */
  permanentAfterMs: 3000,
} as const

export interface PollOptions {
  /** `performance.now()` when the gate started: time-to-pass is counted from here. */
  gateStart: number
  /** `performance.now()` value of the overall deadline. */
  deadline: number
  signal: AbortSignal
}

export type Probe = (limitMs: number, signal: AbortSignal) => Promise<void>

/**
 * For a check the engine can report on (`healthy`): undefined to poll on the schedule, or a
 * promise that resolves when what the probe saw may have changed. The wait between attempts then
 * ends at that moment, or after POLL.maxRetryMs at the latest.
 */
export type Wake = () => Promise<void> | undefined

/**
 * Polls one check until it passes or its time runs out. Its time is the gate's deadline, or
 * sooner when the check has its own `timeoutMs` (counted from when it starts). The last attempt
 * happens at the deadline, not a back-off step before it. Abort rejects with `signal.reason`.
 */
export async function pollCheck(
  check: GateCheck,
  probe: Probe,
  options: PollOptions,
  wake?: Wake,
): Promise<CheckResult> {
  const { signal } = options
  const started = performance.now()
  const deadline =
    check.timeoutMs === undefined ? options.deadline : Math.min(options.deadline, started + check.timeoutMs)
  let attempts = 0
  let delay: number = POLL.firstRetryMs
  let lastError: string | undefined
  let hint: string | undefined
  /** Since when the same permanent failure has been answered, attempt after attempt. */
  let permanentSince: { at: number; message: string } | undefined

  for (;;) {
    signal.throwIfAborted()
    attempts += 1
    const remaining = deadline - performance.now()
    const limitMs = Math.round(Math.min(POLL.maxAttemptMs, Math.max(POLL.minAttemptMs, remaining)))
    try {
      await probe(limitMs, signal)
      const timeToPassMs = Math.round(performance.now() - options.gateStart)
      return { ...identity(check), status: 'passed', attempts, timeToPassMs }
    } catch (error) {
      if (signal.aborted) throw signal.reason
      // A last attempt squeezed against the deadline that merely ran out of time says less than
      // the error before it (`connect ECONNREFUSED`, `HTTP 503`): keep that one.
      const squeezed = remaining < POLL.minAttemptMs && error instanceof AttemptTimeout
      if (!squeezed || lastError === undefined) {
        lastError = describeError(error)
        hint = error instanceof ProbeError ? error.hint : undefined
      }
      if (error instanceof ProbeError && error.permanent) {
        if (permanentSince?.message !== error.message)
          permanentSince = { at: performance.now(), message: error.message }
        if (performance.now() - permanentSince.at >= POLL.permanentAfterMs)
          return failed(check, attempts, lastError, hint)
      } else {
        permanentSince = undefined
      }
      // The engine called the container unhealthy (or it exited): waiting longer cannot help.
      if (error instanceof DecisiveFailure) return failed(check, attempts, lastError, hint)
    }
    const left = deadline - performance.now()
    if (left <= 0) return failed(check, attempts, lastError, hint)
    const woken = wake?.()
    try {
      if (woken) {
        const timer = new AbortController()
        const stop = () => timer.abort()
        signal.addEventListener('abort', stop, { once: true })
        try {
          await Promise.race([
            woken,
            sleep(Math.min(POLL.maxRetryMs, left), undefined, { signal: timer.signal }).catch(() => undefined),
          ])
        } finally {
          signal.removeEventListener('abort', stop)
          timer.abort()
        }
        signal.throwIfAborted()
      } else {
        await sleep(Math.min(delay, left), undefined, { signal })
      }
    } catch {
      throw signal.reason
    }
    const cap = performance.now() - options.gateStart < POLL.patientAfterMs ? POLL.busyRetryMs : POLL.maxRetryMs
    delay = Math.min(delay * POLL.backoff, cap)
  }
}

function failed(
  check: GateCheck,
  attempts: number,
  lastError: string | undefined,
  hint: string | undefined,
): CheckResult {
  return { ...identity(check), status: 'failed', attempts, lastError, ...(hint === undefined ? {} : { hint }) }
}

/** The fields every result of `check` carries. */
export function identity(check: GateCheck): Pick<CheckResult, 'name' | 'kind' | 'target' | 'service'> {
  return {
    name: check.name,
    kind: check.kind,
    target: check.target,
    ...(check.service === undefined ? {} : { service: check.service }),
  }
}
