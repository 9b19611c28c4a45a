import { lazySchema } from '@berth/contract'
import * as z from 'zod'

/** One check's outcome. Part of the `--json` contract (`output.gate.checks[]`). */
export const checkResultSchema = lazySchema(() =>
  z.object({
    name: z.string(),
    kind: z.enum(['tcp', 'http', 'json', 'postgres', 'redis', 'healthy']),
    target: z.string(),
    status: z.enum(['passed', 'failed', 'skipped']),
    /** Probes made; 0 for a skipped check. */
    attempts: z.number().int().min(0),
    /** Milliseconds from the start of the gate until the check passed. */
    timeToPassMs: z.number().int().min(0).optional(),
    /** Why the last attempt failed (failed checks only). */
    lastError: z.string().optional(),
    /** What to do about the failure, when the probe knows (failed checks only). */
    hint: z.string().optional(),
    /** Why the check did not run (skipped checks only): `prerequisite api failed`. */
    reason: z.string().optional(),
    service: z.string().optional(),
  }),
)

/** The gate's report: `ctx.output.gate`, printed by `--json`. */
export const gateReportSchema = lazySchema(() =>
  z.object({
    passed: z.boolean(),
    elapsedMs: z.number().int().min(0),
    timeoutMs: z.number().int().min(0),
    /** Every configured check, in config order, whatever happened to it. */
    checks: z.array(checkResultSchema),
  }),
)

export type CheckResult = z.infer<typeof checkResultSchema>
export type GateReport = z.infer<typeof gateReportSchema>

/** `120 ms`, `4.2 s`. */
export function formatDuration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`
}

/** One progress line: `✓ db tcp 127.0.0.1:5433 after 120 ms`. */
export function formatCheckLine(result: CheckResult): string {
  const head = `${result.name} ${result.kind} ${result.target}`
  if (result.status === 'passed') return `✓ ${head} after ${formatDuration(result.timeToPassMs ?? 0)}`
  if (result.status === 'skipped') return `- ${head} skipped: ${result.reason ?? 'not run'}`
  return `✗ ${head} — ${result.lastError ?? 'no attempt made'} after ${plural(result.attempts, 'attempt')}`
}

/**
 * The first line of a failed gate's error: every failed check with its target, last error and
 * attempts: `gate failed: api (http://127.0.0.1:8001/healthz) — connect ECONNREFUSED … after 41 attempts`.
 */
export function describeGateFailure(report: GateReport): string {
  const failed = report.checks
    .filter((check) => check.status === 'failed')
    .map(
      (check) =>
        `${check.name} (${check.target}) — ${check.lastError ?? 'no attempt made'} after ${plural(check.attempts, 'attempt')}`,
    )
  const hints = report.checks.flatMap((check) =>
    check.status === 'failed' && check.hint ? [`to fix ${check.name}: ${check.hint}`] : [],
  )
  const skipped = report.checks
    .filter((check) => check.status === 'skipped')
    .map((check) => `${check.name} (${check.reason ?? 'not run'})`)
  const lines = [`gate failed: ${failed.join('; ')}`, ...hints]
  if (skipped.length > 0) lines.push(`skipped: ${skipped.join('; ')}`)
  return lines.join('\n')
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}
