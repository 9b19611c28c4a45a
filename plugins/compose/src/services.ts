import type { BerthServices, TaskContext } from '@berth/contract'
import { assertComposeOk, runCompose } from './run.js'
import { composeSession, missingFiles } from './steps/context.js'

/**
 * `serviceLogs(services, tail)`: the last `tail` lines of the named services of the current
 * instance (all services when the list is empty), redacted — for the gate's failure report.
 * Reads `ctx.instance` when called, so it works after the step that sets it.
 */
export function composeServices(ctx: TaskContext): BerthServices {
  return {
    async serviceLogs(services: string[], tail: number): Promise<string> {
      if (!ctx.instance) return ''
      const session = await composeSession(ctx, 'serviceLogs')
      if (missingFiles(session.files).length > 0) return ''
      const lines = Number.isFinite(tail) && tail > 0 ? Math.floor(tail) : 50
      const result = await runCompose(['logs', '--no-color', `--tail=${lines}`, ...services], {
        ...session.options,
        onLine: undefined,
      })
      assertComposeOk(result, `compose logs of ${session.project}`, ctx.redactor)
      return ctx.redactor.redact(result.stdout)
    },
  }
}
