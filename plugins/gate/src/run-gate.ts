import { setMaxListeners } from 'node:events'
import { ConfigError, importExternal, UsageError } from '@berth/contract'
import { withAttemptLimit } from './attempt.js'
import { type GateCheck, resolveCheck } from './checks.js'
import { findDependencyProblems } from './dependencies.js'
import { identity, pollCheck } from './poll.js'
import { HealthBoard } from './probe-healthy.js'
import { probePostgres } from './probe-postgres.js'
import { probeRedis } from './probe-redis.js'
import { probeHttp, probeTcp } from './probes.js'
import type { CheckResult, GateReport } from './report.js'
import { formatIssuePath, type GateCheckInput, gateCheckSchema } from './schema.js'

export interface RunGateOptions {
  /** The overall deadline: every check finishes (passed, failed or skipped) within it. */
  timeoutMs: number
  /** Values for `${VAR}` in checks given in the user form; resolved checks ignore it. */
  env?: Readonly<Record<string, string>>
  /** Aborting stops all polling promptly; `runGate` then rejects with the signal's reason. */
  signal?: AbortSignal
  /** Called once per check as it settles, in the order they settle. */
  onProgress?: (result: CheckResult) => void
  /** Secrets for credentials of checks given in the user form (`postgres.password: "${DB_PASSWORD}"`). */
  secretEnv?: Readonly<Record<string, string>>
  /** Named in a postgres check's hint when a kept volume refuses the password. */
  volumeResetCommand?: string
}

/** A resolved check (from `resolveChecks`) or one in the config form, resolved with `options.env`. */
export type GateCheckSpec = GateCheck | GateCheckInput

/**
 * Runs every check concurrently. A check starts once the checks in its `after` passed; if one of
 * them failed or was skipped, it is skipped. Each check polls on its own timer until the overall
 * deadline (or its own `timeoutMs`), so a slow or hung check never delays the verdict on another,
 * and the report lists every check whatever happened.
 */
export async function runGate(checks: readonly GateCheckSpec[], options: RunGateOptions): Promise<GateReport> {
  const { timeoutMs } = options
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`gate timeout must be a positive number of milliseconds, got ${timeoutMs}`)
  }
  const resolved = prepareChecks(checks, options.env ?? {}, options.secretEnv ?? {})
  options.signal?.throwIfAborted()
  // One listener on the caller's signal; every check's polling listens to this one instead, so
  // twenty concurrent checks do not trip Node's max-listeners warning on the caller's signal.
  const gateAbort = new AbortController()
  setMaxListeners(0, gateAbort.signal)
  const forwardAbort = (): void => gateAbort.abort(options.signal?.reason)
  options.signal?.addEventListener('abort', forwardAbort, { once: true })
  const signal = gateAbort.signal

  const gateStart = performance.now()
  const deadline = gateStart + timeoutMs
  // undici is loaded only when a gate has an HTTP check: a TCP-only gate never pays for it.
  const needsHttp = resolved.some((check) => check.kind === 'http' || check.kind === 'json')
  const dispatcher = needsHttp ? new (await importExternal('undici', () => import('undici'))).Agent() : undefined
  const byName = new Map(resolved.map((check) => [check.name, check]))
  // One engine request a poll serves every healthy check of a project.
  const boards = new Map<string, HealthBoard>()
  const boardOf = (project: string): HealthBoard => {
    const known = boards.get(project)
    if (known) return known
    const board = new HealthBoard(project)
    boards.set(project, board)
    return board
  }
  const settling = new Map<string, Promise<CheckResult>>()

  const settle = (check: GateCheck): Promise<CheckResult> => {
    let pending = settling.get(check.name)
    if (pending === undefined) {
      pending = (async () => {
        /** The board's event count when this check last looked (healthy checks). */
        let seen = 0
        const prerequisites = await Promise.all(check.after.map((name) => settle(byName.get(name)!)))
        const blocked = prerequisites.filter((result) => result.status !== 'passed')
        const result: CheckResult =
          blocked.length > 0
            ? {
                ...identity(check),
                status: 'skipped',
                attempts: 0,
                reason: `prerequisite ${blocked.map((result) => `${result.name} ${result.status}`).join(', ')}`,
              }
            : await pollCheck(
                check,
                async (limitMs, attemptSignal) => {
                  const attempt = { limitMs, signal: attemptSignal }
                  switch (check.kind) {
                    case 'tcp':
                      return probeTcp(check, attempt)
                    case 'postgres':
                      return probePostgres(check, { ...attempt, volumeResetCommand: options.volumeResetCommand })
                    case 'redis':
                      return probeRedis(check, attempt)
                    case 'healthy': {
                      const board = boardOf(check.project)
                      // Subscribed before the first look, so no verdict falls between the two.
                      await board.watch()
                      seen = board.version
                      return withAttemptLimit(
                        attemptSignal,
                        limitMs,
                        `the engine did not answer within ${limitMs} ms`,
                        () => board.probe(check.healthy),
                      )
                    }
                    default:
                      return probeHttp(check, { ...attempt, ...(dispatcher ? { dispatcher } : {}) })
                  }
                },
                { gateStart, deadline, signal },
                check.kind === 'healthy' ? () => boardOf(check.project).changed(seen) : undefined,
              )
        options.onProgress?.(result)
        return result
      })()
      settling.set(check.name, pending)
    }
    return pending
  }

  try {
    const results = await Promise.all(resolved.map(settle))
    return {
      passed: results.every((result) => result.status === 'passed'),
      elapsedMs: Math.round(performance.now() - gateStart),
      timeoutMs: Math.round(timeoutMs),
      checks: results,
    }
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort)
    for (const board of boards.values()) board.close()
    await dispatcher?.destroy()
  }
}

/** Resolves config-form checks and rejects an `after` graph with unknown names or cycles. */
function prepareChecks(
  specs: readonly GateCheckSpec[],
  env: Readonly<Record<string, string>>,
  secretEnv: Readonly<Record<string, string>>,
): GateCheck[] {
  const problems: string[] = []
  const checks: GateCheck[] = []
  specs.forEach((spec, index) => {
    if ('kind' in spec) {
      checks.push(spec)
      return
    }
    const parsed = gateCheckSchema.safeParse(spec)
    if (parsed.success) checks.push(resolveCheck(parsed.data, env, secretEnv))
    else
      problems.push(
        ...parsed.error.issues.map((issue) => `${formatIssuePath('checks', [index, ...issue.path])}: ${issue.message}`),
      )
  })
  if (problems.length === 0) {
    for (const problem of findDependencyProblems(checks))
      problems.push(`${formatIssuePath('', problem.path)}: ${problem.message}`)
  }
  if (problems.length > 0) {
    throw new ConfigError(`invalid gate checks:\n  ${problems.join('\n  ')}`, problems, {
      hint: 'Each check needs a unique name and exactly one of tcp, http, postgres, redis or healthy; `after` must name other checks without cycles.',
    })
  }
  return checks
}
