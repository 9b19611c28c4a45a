import type { BerthServices, TaskContext } from '@berth/contract'
import { projectLogTail } from './engine-logs.js'
import { IDENTITY_VARIABLES } from './lint/report.js'
import { composeProjectName, resolveComposeFiles } from './project.js'
import { describeCompose } from './render/describe.js'
import { loadModelOnce, projectVariables } from './render/instance.js'
import { listPublishedHostPorts } from './render/published.js'
import { assertComposeOk, runCompose } from './run.js'
import { composeFilesFor, composeSession, composeSettings, missingFiles } from './steps/context.js'
import { instanceStates } from './steps/list.js'

/**
 * `serviceLogs(services, tail)`: the last `tail` lines of the named services of the current
 * instance (all services when the list is empty), redacted — for the gate's failure report.
 * Reads `ctx.instance` when called, so it works after the step that sets it. Asks the engine API
 * (milliseconds) rather than `compose logs` (a second or more per call, far more on a busy
 * machine, which a failing gate would add to its deadline); compose is the fallback.
 */
export function composeServices(ctx: TaskContext): BerthServices {
  return {
    describeCompose,
    instanceStates: () => instanceStates(ctx),
    publishedHostPorts(instanceVariables: string[]) {
      const config = composeSettings(ctx)
      if (!config.render.enabled) return []
      // The instance's own files once its checkout exists; before that (impl claims its slot before
      // making the worktree) the files of the checkout berth runs in.
      let files = composeFilesFor(ctx, config)
      if (missingFiles(files).length > 0) {
        files = resolveComposeFiles({ files: config.files, configRoot: ctx.config.root, repoRoot: ctx.repo?.root })
      }
      if (files.length === 0 || missingFiles(files).length > 0) return []
      const known = new Set([...IDENTITY_VARIABLES, ...instanceVariables])
      return listPublishedHostPorts(loadModelOnce(files), known, projectVariables(files))
    },
    async serviceLogs(services: string[], tail: number): Promise<string> {
      if (!ctx.instance) return ''
      await ctx.services.redactSecrets?.()
      const lines = Number.isFinite(tail) && tail > 0 ? Math.floor(tail) : 50
      try {
        return ctx.redactor.redact(await projectLogTail(composeProjectName(ctx.instance.id), services, lines))
      } catch (error) {
        ctx.log.debug(`serviceLogs: engine API failed (${(error as Error).message}); asking compose`)
      }
      const session = await composeSession(ctx, 'serviceLogs', { tolerateRenderError: true })
      if (missingFiles(session.files).length > 0) return ''
      const result = await runCompose(['logs', '--no-color', `--tail=${lines}`, ...services], {
        ...session.options,
        onLine: undefined,
      })
      assertComposeOk(result, `compose logs of ${session.project}`, ctx.redactor)
      return ctx.redactor.redact(result.stdout)
    },
  }
}
