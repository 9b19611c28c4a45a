import { defineStep, type EngineContainer, type TaskContext } from '@berth/contract'
import { listComposeContainers } from '@berth/engine'
import { type EngineVolume, listComposeVolumes } from '../engine.js'
import { composeOutput, type InstanceComposeSummary } from '../outputs.js'
import { composeProjectName } from '../project.js'
import { findOrphans, type OrphanProject, stateFromCounts, summariseProjects } from '../status.js'

interface EngineSnapshot {
  containers: EngineContainer[]
  volumes: EngineVolume[]
}

/** One engine snapshot (containers, volumes) per command, however many steps and services ask. */
const snapshots = new WeakMap<TaskContext, Promise<EngineSnapshot>>()
function engineSnapshot(ctx: TaskContext): Promise<EngineSnapshot> {
  let snapshot = snapshots.get(ctx)
  if (!snapshot) {
    snapshot = Promise.all([listComposeContainers(), listComposeVolumes()]).then(([containers, volumes]) => ({
      containers,
      volumes,
    }))
    snapshots.set(ctx, snapshot)
  }
  return snapshot
}

/**
 * The compose state of every registered instance of this project, from the command's one engine
 * snapshot (the `instanceStates` service: `sandbox list` joins it with the registry's records).
 */
export async function instanceStates(ctx: TaskContext): Promise<Record<string, InstanceComposeSummary>> {
  const summaries = summariseProjects((await engineSnapshot(ctx)).containers)
  const registered = (await ctx.services.listInstances?.()) ?? []
  const instances: Record<string, InstanceComposeSummary> = {}
  for (const instance of registered) {
    const project = composeProjectName(instance.id)
    const summary = summaries.get(project) ?? { running: 0, total: 0, services: [] }
    instances[instance.id] = { project, state: stateFromCounts(summary.running, summary.total), ...summary }
  }
  return instances
}

/**
 * `compose.list`: the compose state of every registered instance and the orphan projects, from
 * two engine requests in all (containers, volumes), however many instances there are.
 */
export const composeListStep = defineStep({
  description: 'compose state of every instance and orphan projects (one engine request for all)',
  uses: ['listInstances', 'machineInstances', 'defaultSlotPorts'],
  outputs: [composeOutput],
  // The engine answers while the registry is read (sandbox list: registry.list, instance.summary).
  prefetch(ctx) {
    engineSnapshot(ctx).catch(() => undefined)
  },
  async run(ctx) {
    const { containers, volumes } = await engineSnapshot(ctx)
    const instances = await instanceStates(ctx)
    // Compose project names are engine-wide: any project's registered instance is nobody's orphan.
    const everywhere = (await ctx.services.machineInstances?.()) ?? (await ctx.services.listInstances?.()) ?? []
    const orphans = orphansOf(ctx, containers, volumes, everywhere)
    ctx.output.compose = { instances, orphans }
  },
})

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
