import { defineState, OperationError, type StepContext, type TaskContext, UsageError } from '@berth/contract'
import { type GateCheck, resolveChecks } from './checks.js'
import { type gateOutput, gateSection, type waitFlags } from './declarations.js'
import { type CheckResult, describeGateFailure, formatCheckLine, formatDuration, type GateReport } from './report.js'
import { runGate } from './run-gate.js'
import type { GateConfig } from './schema.js'
import { resolveTimeoutMs } from './timeout-flag.js'

type GateStepContext = StepContext<typeof waitFlags, typeof gateSection, [typeof gateOutput]>
/** What the gate reads of a task: a step's context or, for `passGateChecks`, the task's. */
type GateContext = Pick<
  TaskContext,
  'task' | 'cwd' | 'env' | 'secretEnv' | 'signal' | 'log' | 'redactor' | 'services' | 'instance' | 'state'
>

/**
 * When the gate's one deadline ends (`performance.now()` value): set by whichever runs first —
 * `passGateChecks` before a hook, or `gate.wait` — so a gate that checks in two phases around
 * the hooks still fails within `--timeout` of its first check.
 */
const deadlineState = defineState<number>('gate.deadline')

/** `gate.wait`: every check, within what is left of the gate's deadline. */
export async function waitForGate(ctx: GateStepContext, logTail: number): Promise<void> {
  const config = ctx.settings
  const allowedMs = resolveTimeoutMs(ctx.flags.timeout, config.timeout)
  const timeoutMs = remainingMs(ctx, allowedMs)
  if (ctx.flags['no-wait']) {
    ctx.log.info('gate: skipped (--no-wait)')
    return
  }
  if (config.checks.length === 0) {
    ctx.log.info('gate: no checks configured, nothing to wait for')
    ctx.output.gate = { passed: true, elapsedMs: 0, timeoutMs, checks: [] }
    return
  }
  const report = await check(ctx, resolveChecks(config, ctx.env, ctx.secretEnv), timeoutMs)
  ctx.output.gate = report
  if (!report.passed) await fail(ctx, report, allowedMs, logTail)
}

/**
 * The `passGateChecks` capability: the named checks and those they wait for (`after`), within
 * the gate's deadline; throws the gate's error (`E_GATE`) when one fails. With `--no-wait` it
 * checks nothing.
 */
export async function passGateChecks(ctx: TaskContext, names: string[], logTail: number): Promise<void> {
  if (names.length === 0 || ctx.flags['no-wait'] === true) return
  const config = gateSection.read(ctx)
  const wanted = withPrerequisites(config, names)
  const timeout = typeof ctx.flags.timeout === 'number' ? ctx.flags.timeout : undefined
  const allowedMs = resolveTimeoutMs(timeout, config.timeout)
  const timeoutMs = remainingMs(ctx, allowedMs)
  const checks = resolveChecks(config, ctx.env, ctx.secretEnv).filter((check) => wanted.has(check.name))
  ctx.log.debug(`gate: ${[...wanted].join(', ')} first (before the hooks that need them)`)
  const report = await check(ctx, checks, timeoutMs)
  if (!report.passed) await fail(ctx, report, allowedMs, logTail)
}

/** `names` and every check they wait for, transitively; an unknown name is a usage error. */
function withPrerequisites(config: GateConfig, names: string[]): Set<string> {
  const byName = new Map(config.checks.map((check) => [check.name, check]))
  const wanted = new Set<string>()
  const add = (name: string): void => {
    if (wanted.has(name)) return
    const check = byName.get(name)
    if (!check) {
      throw new UsageError(`a hook waits for gate check "${name}", which the gate does not have`, {
        code: 'E_HOOK_CONFIG',
        hint: `name one of the gate's checks in hooks[].after: ${[...byName.keys()].join(', ') || '(none configured)'}`,
      })
    }
    wanted.add(name)
    for (const prerequisite of check.after) add(prerequisite)
  }
  for (const name of names) add(name)
  return wanted
}

/** The time left of the gate's deadline, starting the deadline when nothing did yet. */
function remainingMs(ctx: Pick<TaskContext, 'state'>, timeoutMs: number): number {
  const deadline = deadlineState.get(ctx)
  if (deadline === undefined) {
    deadlineState.set(ctx, performance.now() + timeoutMs)
    return timeoutMs
  }
  // At least a moment: every check gets one attempt even when the first phase used the time up.
  return Math.max(250, Math.round(deadline - performance.now()))
}

/** Runs `checks` within `timeoutMs` (what is left of the gate's deadline), logging each outcome. */
async function check(ctx: GateContext, checks: GateCheck[], timeoutMs: number): Promise<GateReport> {
  // A failing check quotes the service's answer, and the failure shows its logs: both redacted.
  await ctx.services.redactSecrets?.()
  ctx.log.debug(`gate: ${checks.length} checks, deadline ${formatDuration(timeoutMs)}`)
  const report = await runGate(checks, {
    timeoutMs,
    signal: ctx.signal,
    volumeResetCommand: volumeResetCommand(ctx),
    onProgress: (result) => logProgress(ctx, result),
  })
  if (report.passed) ctx.log.info(`gate: passed in ${formatDuration(report.elapsedMs)}`)
  return report
}

/** The gate's failure (`E_GATE`): the failed checks, the failing services' log tail, what to do next. */
async function fail(ctx: GateContext, report: GateReport, allowedMs: number, logTail: number): Promise<never> {
  const services = [...new Set(report.checks.flatMap((c) => (c.status === 'failed' && c.service ? [c.service] : [])))]
  const logs = await readLogTail(ctx, services, logTail)
  const message = [describeGateFailure(report), ...(logs ? [logs] : [])].join('\n')
  throw new OperationError(ctx.redactor.redact(message), {
    code: 'E_GATE',
    hint: nextCommands(ctx, services, allowedMs),
    details: { gate: report },
  })
}

/**
 * What to do after a failed gate. `sandbox up`, `local-prod up` and `berth gate` leave the stack
 * running for inspection (the runner keeps it); `impl` rolls back unless --keep-on-failure.
 */
function nextCommands(ctx: GateContext, services: string[], timeoutMs: number): string {
  const logs = `berth sandbox logs${services.length > 0 ? ` ${services.join(' ')}` : ''}`
  const more = `give it longer with --timeout S (this run allowed ${formatDuration(timeoutMs)})`
  if (ctx.task === 'impl') return `See more with \`${logs}\` (after --keep-on-failure); ${more}.`
  const group = ctx.instance?.kind === 'local-prod' ? 'local-prod' : 'sandbox'
  return `The stack is still running for inspection: \`${logs}\`; after a fix run \`berth ${group} up\` again (or \`berth gate\`), or stop it with \`berth ${group} down\`; ${more}.`
}

/**
 * The commands that give this instance fresh data volumes (named in a postgres check's hint when a
 * kept volume refuses the password): `down --volumes` then `up`, in the instance's folder.
 */
function volumeResetCommand(ctx: GateContext): string {
  const group = ctx.instance?.kind === 'local-prod' ? 'local-prod' : 'sandbox'
  const path = ctx.instance?.path
  const where = path && path !== ctx.cwd ? ` --cwd ${/^[\w./-]+$/.test(path) ? path : JSON.stringify(path)}` : ''
  return `berth ${group} down --volumes${where} && berth ${group} up${where}`
}

function logProgress(ctx: GateContext, result: CheckResult): void {
  const line = formatCheckLine(result)
  if (result.status === 'failed') ctx.log.warn(line)
  else ctx.log.info(line)
}

/** The failing services' log tail, as a block for the error; a log failure never hides the gate's. */
async function readLogTail(ctx: GateContext, services: string[], tail: number): Promise<string> {
  if (services.length === 0) return ''
  const serviceLogs = ctx.services.serviceLogs
  if (!serviceLogs) return `(no log tail for ${services.join(', ')}: no plugin provides serviceLogs)`
  try {
    const text = (await serviceLogs(services, tail)).trimEnd()
    const heading = `last ${tail} log lines of ${services.join(', ')}:`
    return text ? `${heading}\n${text}` : `${heading} (empty)`
  } catch (error) {
    return `(could not read logs of ${services.join(', ')}: ${error instanceof Error ? error.message : String(error)})`
  }
}
