import type { TaskContext } from '@berth/contract'
import { type SweepReport, sweepProject } from '../engine.js'
import { runCompose } from '../run.js'
import { type ComposeSession, missingFiles } from './context.js'

/**
 * Removes a project completely: `down --volumes --remove-orphans` when compose and the project's
 * files are there, then a label-based sweep through the engine API for whatever compose left (or
 * could not reach). Idempotent. Throws only when something labelled with the project remains.
 */
export async function tearDownProject(
  ctx: TaskContext,
  project: string,
  session: ComposeSession | undefined,
): Promise<SweepReport> {
  if (session && missingFiles(session.files).length === 0) {
    // No abort signal: cleanup must finish even after Ctrl-C. A short stop timeout
    // (compose.destroyGrace), because the volumes are deleted next and a graceful shutdown saves nothing.
    const options = { ...session.options, signal: undefined }
    const grace = String(session.config.destroyGrace)
    const result = await runCompose(['down', '--volumes', '--remove-orphans', '--timeout', grace], options)
    if (result.exitCode !== 0) {
      ctx.log.warn(`compose down of ${project} failed (exit ${result.exitCode}); removing its resources by label`)
    }
  } else {
    ctx.log.debug(`compose or the compose files of ${project} are missing; removing its resources by label`)
  }
  return sweepProject(project)
}
