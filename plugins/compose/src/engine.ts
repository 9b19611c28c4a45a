import { type EngineContainer, OperationError } from '@berth/contract'
import { engineCall, engineRequest } from '@berth/engine'

/** The compose label every container, volume and network of a project carries. */
export const PROJECT_LABEL = 'com.docker.compose.project'

/** The subset of `GET /volumes` berth reads. */
export interface EngineVolume {
  Name: string
  Labels: Record<string, string> | null
}

/** The subset of `GET /networks` berth reads. */
export interface EngineNetwork {
  Id: string
  Name: string
  Labels: Record<string, string> | null
}

/** Everything the engine holds for one compose project. */
export interface ProjectResources {
  containers: EngineContainer[]
  volumes: EngineVolume[]
  networks: EngineNetwork[]
}

export interface EngineOptions {
  socketPath?: string
}

function labelFilter(label: string): string {
  return encodeURIComponent(JSON.stringify({ label: [label] }))
}

/** All volumes carrying a compose project label (or one project's), in one request. */
export async function listComposeVolumes(project?: string, options: EngineOptions = {}): Promise<EngineVolume[]> {
  const label = project === undefined ? PROJECT_LABEL : `${PROJECT_LABEL}=${project}`
  const answer = await engineRequest<{ Volumes: EngineVolume[] | null }>(
    `/volumes?filters=${labelFilter(label)}`,
    options,
  )
  return answer.Volumes ?? []
}

/** All networks carrying a compose project label (or one project's), in one request. */
export function listComposeNetworks(project?: string, options: EngineOptions = {}): Promise<EngineNetwork[]> {
  const label = project === undefined ? PROJECT_LABEL : `${PROJECT_LABEL}=${project}`
  return engineRequest<EngineNetwork[]>(`/networks?filters=${labelFilter(label)}`, options)
}

/** Containers (running or not), volumes and networks labelled with `project`: three requests. */
export async function projectResources(project: string, options: EngineOptions = {}): Promise<ProjectResources> {
  const label = labelFilter(`${PROJECT_LABEL}=${project}`)
  const [containers, volumes, networks] = await Promise.all([
    engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${label}`, options),
    listComposeVolumes(project, options),
    listComposeNetworks(project, options),
  ])
  return { containers, volumes, networks }
}

export interface SweepReport {
  containers: string[]
  volumes: string[]
  networks: string[]
}

/**
 * Removes, through the engine API, every container (forced, with its anonymous volumes), network
 * and volume labelled with `project` — what `compose down --volumes` may leave behind after a
 * failed start. Returns the names it removed; already-gone objects are not errors. Throws an
 * {@link OperationError} naming whatever still remains afterwards.
 */
export async function sweepProject(project: string, options: EngineOptions = {}): Promise<SweepReport> {
  const found = await projectResources(project, options)
  const removed: SweepReport = { containers: [], volumes: [], networks: [] }
  const failures: string[] = []
  const remove = async (kind: keyof SweepReport, name: string, path: string) => {
    const status = await engineDelete(path, options)
    if (status < 300 || status === 404) removed[kind].push(name)
    else failures.push(`${kind.slice(0, -1)} ${name} (engine answered ${status})`)
  }
  // Containers first: networks and volumes cannot go while a container uses them.
  await Promise.all(
    found.containers.map((c) =>
      remove('containers', containerName(c), `/containers/${encodeURIComponent(c.Id)}?force=1&v=1`),
    ),
  )
  await Promise.all(found.networks.map((n) => remove('networks', n.Name, `/networks/${encodeURIComponent(n.Id)}`)))
  await Promise.all(found.volumes.map((v) => remove('volumes', v.Name, `/volumes/${encodeURIComponent(v.Name)}`)))
  const left = await projectResources(project, options)
  const remaining = [
    ...left.containers.map((c) => `container ${containerName(c)}`),
    ...left.networks.map((n) => `network ${n.Name}`),
    ...left.volumes.map((v) => `volume ${v.Name}`),
  ]
  if (remaining.length > 0) {
    throw new OperationError(`could not remove everything of compose project ${project}: ${remaining.join(', ')}`, {
      code: 'E_COMPOSE_LEFTOVERS',
      hint: `inspect with 'docker ps -a --filter label=${PROJECT_LABEL}=${project}' and remove them by hand`,
      details: { remaining, failures },
    })
  }
  return removed
}

/** A container's name without the engine's leading slash. */
export function containerName(container: Pick<EngineContainer, 'Names' | 'Id'>): string {
  return container.Names[0]?.replace(/^\//, '') ?? container.Id.slice(0, 12)
}

/** `DELETE` on the engine API, answering the HTTP status (a 404 means "already gone" here). */
async function engineDelete(path: string, options: EngineOptions): Promise<number> {
  const answer = await engineCall(path, { method: 'DELETE', timeoutMs: 60_000, ...options })
  return answer.statusCode
}

/**
 * The images tagged for one instance (`compose.render.instanceImages`: `myapp:dev-<instance id>`):
 * those the rendered file names (`…-${INSTANCE_ID}`, `renderedImages`) and those compose v2 labelled
 * with the project whose tag ends in `-<instance id>` (found even when the checkout is gone).
 * Removed through the engine API without force: an image a container still runs stays. Answers
 * the names removed and those the engine kept (with its status).
 */
export async function removeInstanceImages(
  project: string,
  instanceId: string,
  renderedImages: string[],
  options: EngineOptions = {},
): Promise<{ removed: string[]; kept: string[] }> {
  const suffix = `-${instanceId}`
  const names = new Set(renderedImages.map((image) => image.replaceAll('${INSTANCE_ID}', instanceId)))
  const labelled = await engineRequest<{ RepoTags: string[] | null }[]>(
    `/images/json?filters=${labelFilter(`${PROJECT_LABEL}=${project}`)}`,
    options,
  ).catch(() => [])
  for (const image of labelled) {
    for (const tag of image.RepoTags ?? []) if (tag.endsWith(suffix)) names.add(tag)
  }
  const removed: string[] = []
  const kept: string[] = []
  for (const name of [...names].filter((image) => image.endsWith(suffix))) {
    const answer = await engineCall(`/images/${encodeURIComponent(name)}`, {
      method: 'DELETE',
      timeoutMs: 60_000,
      ...options,
    })
    if (answer.statusCode < 300) removed.push(name)
    else if (answer.statusCode !== 404) kept.push(`${name} (engine answered ${answer.statusCode})`)
  }
  return { removed, kept }
}
