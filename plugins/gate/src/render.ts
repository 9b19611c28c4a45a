import { colour } from '@berth/contract'
import type { GateReport } from './report.js'

/** The gate's report for humans: a verdict line, then one line per check. */
export function renderGateReport(gate: GateReport): string[] {
  if (gate.checks.length === 0) return []
  return [
    `gate ${gate.passed ? colour.green('passed') : colour.red('failed')} in ${(gate.elapsedMs / 1000).toFixed(1)} s`,
    ...gate.checks.map((c) => {
      const mark =
        c.status === 'passed' ? colour.green('✔') : c.status === 'skipped' ? colour.dim('-') : colour.red('✖')
      const detail =
        c.status === 'passed'
          ? `${c.timeToPassMs ?? 0} ms`
          : c.status === 'skipped'
            ? (c.reason ?? '')
            : (c.lastError ?? '')
      return `  ${mark} ${c.name.padEnd(14)} ${c.target}  ${colour.dim(detail)}`
    }),
  ]
}
