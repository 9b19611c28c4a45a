import {
  defineOutput,
  defineSection,
  defineStep,
  flag,
  OperationError,
  type Plugin,
  type StepContext,
} from '@berth/contract'
import { resolveChecks } from './checks.js'
import { renderGateReport } from './render.js'
import { type CheckResult, describeGateFailure, formatCheckLine, formatDuration, gateReportSchema } from './report.js'
import { runGate } from './run-gate.js'
import { gateConfigSchema } from './schema.js'
import { resolveTimeoutMs, timeoutFlag } from './timeout-flag.js'
import { GATE_VERSION } from './version.js'

/** Lines of each failing service's log shown with a failed gate. */
export const LOG_TAIL_LINES = 30

export interface GatePluginOptions {
  /** Log lines per failing service; default 30. */
  logTail?: number
}

export const gateSection = defineSection('gate', gateConfigSchema)

/** `output.gate`: the gate's report, one entry per configured check. */
export const gateOutput = defineOutput('gate', gateReportSchema, {
  description: "the startability gate's report: passed, elapsed time, deadline and each check's outcome",
  render: renderGateReport,
})

const waitFlags = {
  timeout: timeoutFlag,
  'no-wait': flag.boolean('start the containers but skip the startability gate'),
}

/** The startability gate: `gate.wait` proves a started stack is healthy. */
export function gatePlugin(options: GatePluginOptions = {}): Plugin {
  const logTail = options.logTail ?? LOG_TAIL_LINES
  return {
    name: 'berth:gate',
    version: GATE_VERSION,
    sections: [gateSection],
    steps: {
      // No undo: the gate only looks; it changes nothing.
      wait: defineStep({
        description: 'wait until every gate check passes (tcp / http / json), or fail with the log tail',
        flags: waitFlags,
        config: gateSection,
        outputs: [gateOutput],
        run: (ctx) => waitForGate(ctx, logTail),
      }),
    },
  }
}

type GateStepContext = StepContext<typeof waitFlags, typeof gateSection, [typeof gateOutput]>

async function waitForGate(ctx: GateStepContext, logTail: number): Promise<void> {
  const config = ctx.settings
  const timeoutMs = resolveTimeoutMs(ctx.flags.timeout, config.timeout)
  if (ctx.flags['no-wait']) {
    ctx.log.info('gate: skipped (--no-wait)')
    return
  }
  if (config.checks.length === 0) {
    ctx.log.info('gate: no checks configured, nothing to wait for')
    ctx.output.gate = { passed: true, elapsedMs: 0, timeoutMs, checks: [] }
    return
  }

  // A failing check quotes the service's answer, and the failure shows its logs: both redacted.
  await ctx.services.redactSecrets?.()
  const checks = resolveChecks(config, ctx.env)
  ctx.log.debug(`gate: ${checks.length} checks, deadline ${formatDuration(timeoutMs)}`)
  const report = await runGate(checks, {
    timeoutMs,
    signal: ctx.signal,
    onProgress: (result) => logProgress(ctx, result),
  })
  ctx.output.gate = report
  if (report.passed) {
    ctx.log.info(`gate: passed in ${formatDuration(report.elapsedMs)}`)
    return
  }

  const services = [...new Set(report.checks.flatMap((c) => (c.status === 'failed' && c.service ? [c.service] : [])))]
  const logs = await readLogTail(ctx, services, logTail)
  const message = [describeGateFailure(report), ...(logs ? [logs] : [])].join('\n')
  throw new OperationError(ctx.redactor.redact(message), {
    code: 'E_GATE',
    hint:
      (services.length > 0 ? `See more with \`berth sandbox logs ${services.join(' ')}\`; ` : '') +
      `give the stack longer with --timeout S (this run allowed ${formatDuration(timeoutMs)}).`,
    details: { gate: report },
  })
}

function logProgress(ctx: GateStepContext, result: CheckResult): void {
  const line = formatCheckLine(result)
  if (result.status === 'failed') ctx.log.warn(line)
  else ctx.log.info(line)
}

/** The failing services' log tail, as a block for the error; a log failure never hides the gate's. */
async function readLogTail(ctx: GateStepContext, services: string[], tail: number): Promise<string> {
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
