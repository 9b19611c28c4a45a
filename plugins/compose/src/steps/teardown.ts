import type { TaskContext } from '@berth/contract'
import { removeInstanceImages, type SweepReport, sweepProject } from '../engine.js'
import { runCompose } from '../run.js'
import { yaml } from '../yaml-lazy.js'
import { type ComposeSession, missingFiles } from './context.js'

/**
 * Removes a project completely: `down --volumes --remove-orphans` when compose and the project's
 * files are there, then a label-based sweep through the engine API for whatever compose left (or
 * could not reach), and the images tagged for the instance (`compose.render.instanceImages`). Idempotent.
 * Throws only when something labelled with the project remains.
 */
export async function tearDownProject(
  ctx: TaskContext,
  project: string,
  session: ComposeSession | undefined,
  instanceId: string = session?.instance.id ?? project,
): Promise<SweepReport & { images: string[] }> {
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
  const swept = await sweepProject(project)
  const images = await removeInstanceImages(project, instanceId, renderedImages(session?.render?.text))
  for (const kept of images.kept) ctx.log.warn(`image ${kept} kept: remove it with 'docker rmi' when nothing uses it`)
  if (images.removed.length > 0) ctx.log.info(`removed the instance's image(s) ${images.removed.join(', ')}`)
  return { ...swept, images: images.removed }
}

/** The `image:` of every service of the rendered file (with `${INSTANCE_ID}` as written). */
function renderedImages(text: string | undefined): string[] {
  if (!text) return []
  try {
    const doc = yaml().parse(text) as { services?: Record<string, { image?: unknown } | null> } | null
    return Object.values(doc?.services ?? {}).flatMap((service) =>
      typeof service?.image === 'string' ? [service.image] : [],
    )
  } catch {
    return []
  }
}
