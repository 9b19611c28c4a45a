import { composeProjectName, type EngineContainer, type Redactor } from '@berth/contract'
import { engineRequest, listComposeContainers } from '@berth/engine'

export const PROJECT_LABEL = 'com.docker.compose.project'
export const SERVICE_LABEL = 'com.docker.compose.service'
const ONE_OFF_LABEL = 'com.docker.compose.oneoff'

/** The compose project name of an instance, as the compose plugin derives it (`[a-z0-9_-]`). */
export function projectNameFor(instanceId: string): string {
  return composeProjectName(instanceId)
}

/** The project's containers, running or not, from one `GET /containers/json` request. */
export async function projectContainers(project: string): Promise<EngineContainer[]> {
  const all = await listComposeContainers()
  return all
    .filter((container) => container.Labels[PROJECT_LABEL] === project)
    .sort((a, b) => (a.Labels[SERVICE_LABEL] ?? '').localeCompare(b.Labels[SERVICE_LABEL] ?? ''))
}

/** The containers of compose services (one-off `run` containers left out). */
export function serviceContainers(containers: EngineContainer[]): EngineContainer[] {
  return containers.filter(
    (container) => container.Labels[ONE_OFF_LABEL] !== 'True' && Boolean(container.Labels[SERVICE_LABEL]),
  )
}

/** The compose services among `containers`, sorted. */
export function serviceNames(containers: EngineContainer[]): string[] {
  return [...new Set(serviceContainers(containers).map((container) => container.Labels[SERVICE_LABEL]!))].sort()
}

/** What `GET /containers/<id>/json` tells about one container. */
export interface ContainerDetails {
  env: string[]
  tty: boolean
}

/** One inspect request per container, in parallel; containers that vanished meanwhile are left out. */
export async function inspectContainers(containers: EngineContainer[]): Promise<Map<string, ContainerDetails>> {
  const answers = await Promise.all(
    containers.map((container) =>
      engineRequest<{ Config?: { Env?: string[] | null; Tty?: boolean } }>(
        `/containers/${encodeURIComponent(container.Id)}/json`,
      ).then(
        (answer) => [container.Id, { env: answer.Config?.Env ?? [], tty: answer.Config?.Tty === true }] as const,
        () => undefined,
      ),
    ),
  )
  return new Map(answers.filter((answer) => answer !== undefined))
}

/**
 * The names of the secret variables the config maps (`secrets.fields` values, `secrets.defaults`
 * keys) plus those loaded in this run, read without importing the secrets plugin.
 */
export function secretVariableNames(sections: Record<string, unknown>, loaded: Record<string, string>): Set<string> {
  const names = new Set(Object.keys(loaded))
  const secrets = sections.secrets as { fields?: unknown; defaults?: unknown } | undefined
  if (secrets && typeof secrets.fields === 'object' && secrets.fields !== null) {
    for (const name of Object.values(secrets.fields)) if (typeof name === 'string') names.add(name)
  }
  if (secrets && typeof secrets.defaults === 'object' && secrets.defaults !== null) {
    for (const name of Object.keys(secrets.defaults)) names.add(name)
  }
  return names
}

/**
 * Registers with the redactor the values the containers hold for secret variables, so a bundle
 * made without loading secrets (`berth evidence`) still redacts what an earlier `up` passed to
 * the stack. Returns how many values were added.
 */
export function learnContainerSecrets(
  details: Map<string, ContainerDetails>,
  names: Set<string>,
  redactor: Redactor,
): number {
  const before = redactor.size
  for (const { env } of details.values()) {
    for (const entry of env) {
      const eq = entry.indexOf('=')
      if (eq > 0 && names.has(entry.slice(0, eq))) redactor.add(entry.slice(eq + 1))
    }
  }
  return redactor.size - before
}
