import { existsSync } from 'node:fs'
import type { EngineContainer, Repair, TaskContext } from '@berth/contract'
import { engineRequest, listComposeContainers } from '@berth/engine'
import { listComposeNetworks, listComposeVolumes, PROJECT_LABEL } from '../engine.js'
import { composeProjectName } from '../project.js'
import { findOrphans, type OrphanProject } from '../status.js'
import { partialStacks } from './instances.js'
import { tearDownProject } from './teardown.js'

const WORKING_DIR_LABEL = 'com.docker.compose.project.working_dir'

/** An orphan compose project with everything the engine holds for it. */
export interface OrphanStack extends OrphanProject {
  networks: string[]
  /** The folders compose ran in (the `working_dir` label of its containers). */
  workingDirs: string[]
}

/**
 * Compose projects named like this repository's instances (`<project>-…`) that the registry
 * does not know, with their containers, volumes and networks (a network alone counts too: a
 * start killed early leaves just that). Null when no registry service is loaded, because then
 * every project would look orphaned.
 */
export async function findOrphanStacks(ctx: TaskContext): Promise<OrphanStack[] | null> {
  if (!ctx.services.listInstances) return null
  const [containers, volumes, networks, instances] = await Promise.all([
    listComposeContainers(),
    listComposeVolumes(),
    listComposeNetworks(),
    // Compose project names are engine-wide: any project's registered instance is nobody's orphan.
    ctx.services.machineInstances?.() ?? ctx.services.listInstances(),
  ])
  const prefix = composeProjectName(ctx.config.project)
  const registered = new Set(instances.map((i) => composeProjectName(i.id)))
  const stacks = new Map<string, OrphanStack>()
  for (const orphan of findOrphans(containers, volumes, registered, prefix)) {
    stacks.set(orphan.project, { ...orphan, networks: [], workingDirs: workingDirs(containers, orphan.project) })
  }
  for (const network of networks) {
    const project = network.Labels?.[PROJECT_LABEL]
    if (project === undefined || registered.has(project) || !project.startsWith(`${prefix}-`)) continue
    const stack = stacks.get(project) ?? {
      project,
      containers: 0,
      running: 0,
      volumes: [],
      services: [],
      networks: [],
      workingDirs: [],
    }
    stack.networks.push(network.Name)
    stacks.set(project, stack)
  }
  return [...stacks.values()].sort((a, b) => a.project.localeCompare(b.project))
}

/**
 * Whether `doctor --fix` may remove an orphan: only a project named like a worktree berth makes
 * (`<project>-impl-*` / `<project>-spec-*`, so another repository whose project name merely
 * starts with ours is never matched), and only when the folder its containers ran in is gone (a
 * stack whose checkout still exists may hold data someone wants: it is reported, not removed).
 */
export function orphanVerdict(
  orphan: OrphanStack,
  projectName: string,
): { remove: true } | { remove: false; reason: string } {
  const prefix = composeProjectName(projectName)
  if (!orphan.project.startsWith(`${prefix}-impl-`) && !orphan.project.startsWith(`${prefix}-spec-`)) {
    return {
      remove: false,
      reason: `not named like a worktree berth makes (${prefix}-impl-* or ${prefix}-spec-*); remove it yourself with 'docker-compose -p ${orphan.project} down --volumes' if it is yours`,
    }
  }
  const alive = orphan.workingDirs.filter((dir) => existsSync(dir))
  if (alive.length > 0) {
    return {
      remove: false,
      reason: `its checkout ${alive.join(', ')} still exists: register it again with 'berth sandbox init --name ${orphan.project}' there, or remove the stack with 'docker-compose -p ${orphan.project} down --volumes'`,
    }
  }
  return { remove: true }
}

/**
 * `berth doctor --fix` for compose: removes orphan stacks (containers, volumes, networks — what
 * `down --volumes` removes) that {@link orphanVerdict} allows, and lists what it leaves alone:
 * other orphans, partial stacks of registered instances (`berth sandbox up` or `berth done`
 * are the tools there) and compose projects not named like this repository's instances.
 * With `dryRun` nothing is changed.
 */
export async function repairCompose(ctx: TaskContext, options: { dryRun: boolean }): Promise<Repair[]> {
  const reachable = await engineRequest('/_ping').then(
    () => true,
    () => false,
  )
  if (!reachable) {
    return [{ action: 'orphan stacks', status: 'skipped', detail: 'the Docker engine is not reachable' }]
  }
  const orphans = await findOrphanStacks(ctx)
  if (orphans === null) {
    return [
      { action: 'orphan stacks', status: 'skipped', detail: 'no registry is loaded, so orphans cannot be told apart' },
    ]
  }
  const repairs: Repair[] = []
  for (const orphan of orphans) {
    const verdict = orphanVerdict(orphan, ctx.config.project)
    const what = describeStack(orphan)
    if (!verdict.remove) {
      repairs.push({
        action: `leave orphan compose project ${orphan.project} alone (${what})`,
        status: 'skipped',
        detail: verdict.reason,
      })
      continue
    }
    const action = `remove orphan compose project ${orphan.project} (${what})`
    if (options.dryRun) {
      repairs.push({ action, status: 'planned' })
      continue
    }
    try {
      const removed = await tearDownProject(ctx, orphan.project, undefined)
      repairs.push({
        action,
        status: 'fixed',
        detail: `removed ${removed.containers.length} container(s), ${removed.volumes.length} volume(s), ${removed.networks.length} network(s)`,
      })
    } catch (error) {
      repairs.push({ action, status: 'failed', detail: ctx.redactor.redact((error as Error).message) })
    }
  }
  for (const partial of await partialStacks(ctx)) {
    repairs.push({
      action: `leave ${partial.id}'s stack alone (${partial.detail})`,
      status: 'skipped',
      detail: `it is a registered instance: start it with 'berth sandbox up' in ${partial.path}, or remove it with 'berth done ${partial.id} --force'`,
    })
  }
  const foreign = await foreignProjects(ctx)
  if (foreign > 0) {
    repairs.push({
      action: `leave ${foreign} other compose project(s) alone`,
      status: 'skipped',
      detail: `only projects named ${composeProjectName(ctx.config.project)}-* can be this repository's instances`,
    })
  }
  return repairs
}

function describeStack(stack: OrphanStack): string {
  const parts = [`${stack.containers} container(s)`]
  if (stack.volumes.length > 0) parts.push(`volumes ${stack.volumes.join(', ')}`)
  if (stack.networks.length > 0) parts.push(`networks ${stack.networks.join(', ')}`)
  return parts.join('; ')
}

function workingDirs(containers: EngineContainer[], project: string): string[] {
  const dirs = containers
    .filter((c) => c.Labels[PROJECT_LABEL] === project)
    .map((c) => c.Labels[WORKING_DIR_LABEL])
    .filter((dir): dir is string => typeof dir === 'string' && dir.length > 0)
  return [...new Set(dirs)]
}

async function foreignProjects(ctx: TaskContext): Promise<number> {
  const prefix = `${composeProjectName(ctx.config.project)}-`
  const projects = new Set((await listComposeContainers()).map((c) => c.Labels[PROJECT_LABEL] ?? ''))
  return [...projects].filter((p) => p !== '' && !p.startsWith(prefix)).length
}
