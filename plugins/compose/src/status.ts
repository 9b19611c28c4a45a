import type { EngineContainer } from '@berth/contract'
import { containerName, type EngineVolume, PROJECT_LABEL } from './engine.js'
import type { ContainerStatus, OrphanProject, ProjectState, PublishedPort } from './outputs.js'
import { composeProjectName } from './project.js'

export type { ContainerStatus, OrphanProject, ProjectState, PublishedPort }

const SERVICE_LABEL = 'com.docker.compose.service'
const ONEOFF_LABEL = 'com.docker.compose.oneoff'

export interface ProjectStatus {
  project: string
  state: ProjectState
  containers: ContainerStatus[]
}

/** Service containers of compose projects; `run` one-offs are not part of a stack. */
function serviceContainers(containers: EngineContainer[]): EngineContainer[] {
  return containers.filter((c) => c.Labels[PROJECT_LABEL] !== undefined && c.Labels[ONEOFF_LABEL] !== 'True')
}

export function healthOf(status: string): ContainerStatus['health'] {
  if (/\(healthy\)/.test(status)) return 'healthy'
  if (/\(unhealthy\)/.test(status)) return 'unhealthy'
  if (/\(health: starting\)/.test(status)) return 'starting'
  return null
}

function publishedPorts(container: EngineContainer): PublishedPort[] {
  const seen = new Set<string>()
  const ports: PublishedPort[] = []
  for (const port of container.Ports ?? []) {
    if (port.PublicPort === undefined) continue
    const entry = { host: port.PublicPort, hostIp: port.IP ?? '', container: port.PrivatePort }
    const key = `${entry.hostIp}|${entry.host}|${entry.container}`
    if (seen.has(key)) continue
    seen.add(key)
    ports.push(entry)
  }
  return ports.sort((a, b) => a.container - b.container || a.host - b.host)
}

/** How the containers of one project look from one `/containers/json` answer. */
export function projectStatus(
  containers: EngineContainer[],
  project: string,
  expectedServices?: string[],
): ProjectStatus {
  const mine = serviceContainers(containers).filter((c) => c.Labels[PROJECT_LABEL] === project)
  const views: ContainerStatus[] = mine
    .map((c) => ({
      service: c.Labels[SERVICE_LABEL] ?? '',
      name: containerName(c),
      state: c.State,
      health: healthOf(c.Status),
      ports: publishedPorts(c),
    }))
    .sort((a, b) => a.service.localeCompare(b.service) || a.name.localeCompare(b.name))
  const running = views.filter((c) => c.state === 'running').length
  const missing = (expectedServices ?? []).some((service) => !views.some((c) => c.service === service))
  return { project, state: stateFromCounts(running, views.length, missing), containers: views }
}

/** `absent` (no containers), `stopped` (none running), `running` (all, and no expected service missing), else `partial`. */
export function stateFromCounts(running: number, total: number, missingService = false): ProjectState {
  if (total === 0) return 'absent'
  if (running === 0) return 'stopped'
  return running === total && !missingService ? 'running' : 'partial'
}

export interface ProjectSummary {
  running: number
  total: number
  /** Service names, sorted, each once. */
  services: string[]
}

/** Per-project counts for `sandbox list`, from one `/containers/json` answer for all projects. */
export function summariseProjects(containers: EngineContainer[]): Map<string, ProjectSummary> {
  const summaries = new Map<string, ProjectSummary>()
  for (const container of serviceContainers(containers)) {
    const project = container.Labels[PROJECT_LABEL] as string
    const summary = summaries.get(project) ?? { running: 0, total: 0, services: [] }
    summary.total += 1
    if (container.State === 'running') summary.running += 1
    const service = container.Labels[SERVICE_LABEL]
    if (service && !summary.services.includes(service)) summary.services.push(service)
    summaries.set(project, summary)
  }
  for (const summary of summaries.values()) summary.services.sort()
  return summaries
}

/** A compose project that looks like one of this repository's instances but is not registered. */
/**
 * Compose projects named like this repository's instances (`<projectPrefix>-…`, or matching the
 * given pattern) that the registry does not know: containers or volumes left by a crash, a failed
 * start or a hand-made `docker compose up`. `registeredIds` are instance ids (normalised here the
 * way project names are).
 */
export function findOrphans(
  containers: EngineContainer[],
  volumes: Pick<EngineVolume, 'Name' | 'Labels'>[] | undefined,
  registeredIds: Iterable<string>,
  projectPrefix: string | RegExp,
): OrphanProject[] {
  const registered = new Set([...registeredIds].map(composeProjectName))
  const looksLikeOurs =
    typeof projectPrefix === 'string'
      ? (project: string) => project.startsWith(`${composeProjectName(projectPrefix)}-`)
      : (project: string) => projectPrefix.test(project)
  const orphans = new Map<string, OrphanProject>()
  const entry = (project: string): OrphanProject | undefined => {
    if (registered.has(project) || !looksLikeOurs(project)) return undefined
    const found = orphans.get(project) ?? { project, containers: 0, running: 0, volumes: [], services: [] }
    orphans.set(project, found)
    return found
  }
  for (const [project, summary] of summariseProjects(containers)) {
    const orphan = entry(project)
    if (!orphan) continue
    orphan.containers = summary.total
    orphan.running = summary.running
    orphan.services = summary.services
  }
  for (const volume of volumes ?? []) {
    const project = volume.Labels?.[PROJECT_LABEL]
    if (project !== undefined) entry(project)?.volumes.push(volume.Name)
  }
  return [...orphans.values()].sort((a, b) => a.project.localeCompare(b.project))
}
