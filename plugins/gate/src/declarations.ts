import { defineOutput, defineSection, flag } from '@berth/contract'
import { renderGateReport } from './render.js'
import { gateReportSchema } from './report.js'
import { gateConfigSchema } from './schema.js'
import { timeoutFlag } from './timeout-flag.js'

/** The `gate` config section. */
export const gateSection = defineSection('gate', gateConfigSchema)

/** `output.gate`: the gate's report, one entry per configured check. */
export const gateOutput = defineOutput('gate', gateReportSchema, {
  description: "the startability gate's report: passed, elapsed time, deadline and each check's outcome",
  render: renderGateReport,
})

/** The flags `gate.wait` reads. */
export const waitFlags = {
  timeout: timeoutFlag,
  'no-wait': flag.boolean('start the containers but skip the startability gate'),
}
