import { listComposeContainers, type Step, type TaskContext } from '@berth/contract'
import { type EngineVolume, listComposeVolumes } from '../engine.js'
import { composeProjectName } from '../project.js'
import { findOrphans, type OrphanProject, type ProjectState, stateFromCounts, summariseProjects } from '../status.js'

export interface InstanceComposeSummary {
  project: string
  state: ProjectState
  running: number
  total: number
  services: string[]
}

/**
 * `compose.list`: the compose state of every registered instance and the orphan projects, from
 * two engine requests in all (containers, volumes), however many instances there are.
 * Writes `ctx.output.compose = { instances, orphans }`.
 */
export const composeListStep: Step = {
  description: 'compose state of every instance and orphan projects (one engine request for all)',
  async run(ctx) {
    const [containers, volumes] = await Promise.all([listComposeContainers(), listComposeVolumes()])
    const summaries = summariseProjects(containers)
    const registered = (await ctx.services.listInstances?.()) ?? []
    const instances: Record<string, InstanceComposeSummary> = {}
    for (const instance of registered) {
      const project = composeProjectName(instance.id)
      const summary = summaries.get(project) ?? { running: 0, total: 0, services: [] }
      instances[instance.id] = { project, state: stateFromCounts(summary.running, summary.total), ...summary }
    }
    // Compose project names are engine-wide: any project's registered instance is nobody's orphan.
    const everywhere = (await ctx.services.machineInstances?.()) ?? registered
    const orphans = orphansOf(ctx, containers, volumes, everywhere)
    ctx.output.compose = { instances, orphans }
  },
}

/** Orphans, when the registry could be asked (without it every project would look orphaned). */
export function orphansOf(
  ctx: TaskContext,
  containers: Parameters<typeof findOrphans>[0],
  volumes: EngineVolume[],
  registered: { id: string }[],
): OrphanProject[] | null {
  if (!ctx.services.listInstances) {
    ctx.log.debug('no registry service: orphan detection skipped')
    return null
  }
  const orphans = findOrphans(
    containers,
    volumes,
    registered.map((instance) => instance.id),
    composeProjectName(ctx.config.project),
  )
  for (const orphan of orphans) ctx.log.warn(describeOrphan(orphan))
  return orphans
}

export function describeOrphan(orphan: OrphanProject): string {
  const parts = [`${orphan.containers} container(s), ${orphan.running} running`]
  if (orphan.volumes.length > 0) parts.push(`volumes ${orphan.volumes.join(', ')}`)
  return `compose project ${orphan.project} is not a registered instance (${parts.join('; ')}); remove it with 'docker-compose -p ${orphan.project} down --volumes' or register it with 'berth sandbox init'`
}
