import { type Step, UsageError } from '@berth/contract'
import { lintComposeFiles } from '../lint.js'
import { composeFilesFor, composeSettings } from './context.js'

/**
 * `compose.lint`: checks the instance's compose files for what breaks parallel instances before
 * anything starts. Errors stop the task (exit 2) naming file:line and service; warnings are logged.
 * Writes `ctx.output.lint = { errors, warnings }`.
 */
export const composeLintStep: Step = {
  description: 'check the compose files for container_name, fixed host ports, shared volumes and broad mounts',
  run(ctx) {
    const config = composeSettings(ctx)
    if (!config.lint.enabled) {
      ctx.log.debug('compose lint is disabled (compose.lint.enabled: false)')
      ctx.output.lint = { errors: [], warnings: [], skipped: true }
      return
    }
    const report = lintComposeFiles(composeFilesFor(ctx, config), {
      allowFixedPorts: config.lint.allowFixedPorts,
      allowShared: config.lint.allowShared,
      cwd: ctx.cwd,
    })
    ctx.output.lint = report
    for (const warning of report.warnings) ctx.log.warn(warning.text)
    if (report.errors.length === 0) return
    const count = report.errors.length === 1 ? '1 problem' : `${report.errors.length} problems`
    throw new UsageError(
      `compose lint found ${count} that break parallel instances:\n${report.errors.map((e) => `  ${e.text}`).join('\n')}`,
      {
        code: 'E_COMPOSE_LINT',
        hint: 'fix the compose file, or exempt on purpose with compose.lint.allowFixedPorts / allowShared (or lint.enabled: false)',
        details: { errors: report.errors },
      },
    )
  },
}
