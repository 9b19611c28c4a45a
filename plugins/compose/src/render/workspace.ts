import { UsageError } from '@berth/contract'
import { isMapping, type Mapping, toList } from '../model/normalise.js'
import { escapeDollars } from './identity.js'

/** The compose key of the internal network the workspace and every stack service share. */
export const WORKSPACE_NETWORK = 'berth-workspace'
/** Where the instance's checkout is mounted in the workspace. */
export const WORKSPACE_MOUNT = '/workspace'
/** The label berth puts on the workspace container. */
export const WORKSPACE_LABEL = 'berth.workspace'
/** The default workspace image (scripts/build-workspace-image.sh). */
export const DEFAULT_WORKSPACE_IMAGE = 'berth-workspace:local'

/** What rendering needs to add the workspace service (resolved by the caller from `workspace`). */
export interface WorkspaceRender {
  /** The compose service name. */
  service: string
  image: string
  /** A team's Dockerfile (absolute, inside the instance's checkout): `build:` next to `image:`. */
  dockerfile?: string | undefined
  /** The instance's checkout (absolute): bound at /workspace, and nothing else of the host. */
  checkout: string
  /** `uid:gid` the container runs as (the user running berth: files it writes stay theirs). */
  user?: string | undefined
  /** Variables given as `${NAME}` references: the `.env.sandbox` names and the named secrets. */
  variables: string[]
  /** Networks of the compose files the workspace joins besides the internal one. */
  allow: string[]
}

/**
 * Adds the workspace: an `internal: true` network every stack service joins in addition to its own
 * (a service with no `networks:` keeps `default`), and the workspace service on that network only
 * (plus the allow-listed ones), with the checkout at /workspace as its only host path. Refuses
 * (exit 2) a service name the stack already has and an allow-list entry that names no network.
 */
export function addWorkspace(
  doc: Mapping,
  services: Mapping,
  workspace: WorkspaceRender,
  changes: { subject: string; change: string }[],
  warnings: string[],
): void {
  if (workspace.service in services) {
    throw new UsageError(`the compose files already have a service "${workspace.service}"`, {
      code: 'E_WORKSPACE',
      hint: 'set workspace.service in the berth config to a name the stack does not use',
    })
  }
  const networks: Mapping = isMapping(doc.networks) ? { ...doc.networks } : {}
  if (WORKSPACE_NETWORK in networks) {
    throw new UsageError(`the compose files already have a network "${WORKSPACE_NETWORK}"`, {
      code: 'E_WORKSPACE',
      hint: 'rename that network: berth uses the name for the workspace network',
    })
  }
  for (const name of workspace.allow) {
    if (name !== 'default' && !(name in networks)) {
      throw new UsageError(`workspace.allow names network "${name}", which the compose files do not have`, {
        code: 'E_WORKSPACE',
        hint: `name one of: ${['default', ...Object.keys(networks)].join(', ')}`,
      })
    }
  }
  networks[WORKSPACE_NETWORK] = { internal: true, labels: { [WORKSPACE_LABEL]: 'true' } }
  doc.networks = networks
  changes.push({
    subject: `network "${WORKSPACE_NETWORK}"`,
    change: 'added: internal (no route out), shared by the workspace and every service',
  })

  for (const [name, settings] of Object.entries(services)) {
    if (!isMapping(settings)) continue
    const subject = `service "${name}"`
    if (settings.network_mode !== undefined) {
      const mode = String(settings.network_mode)
      if (!mode.startsWith('service:') && !mode.startsWith('container:')) {
        warnings.push(`${subject} has network_mode ${mode}: the workspace cannot reach it`)
      }
      continue
    }
    const own = settings.networks
    let joined: unknown
    if (isMapping(own)) {
      // The service's aliases on its own networks answer on the workspace network too.
      const aliases = [
        ...new Set(Object.values(own).flatMap((entry) => (isMapping(entry) ? toList(entry.aliases).map(String) : []))),
      ]
      joined = { ...own, [WORKSPACE_NETWORK]: aliases.length > 0 ? { aliases } : {} }
    } else if (own === undefined || own === null) joined = ['default', WORKSPACE_NETWORK]
    else joined = [...toList(own).map(String), WORKSPACE_NETWORK]
    services[name] = { ...settings, networks: joined }
    changes.push({ subject, change: `joins network ${WORKSPACE_NETWORK} (the workspace reaches it by name)` })
  }

  const environment: Mapping = {}
  for (const variable of [...new Set(workspace.variables)].sort()) environment[variable] = `\${${variable}}`
  const service: Mapping = {
    image: workspace.image,
    ...(workspace.dockerfile
      ? {
          build: { context: dirnameOf(workspace.dockerfile), dockerfile: basenameOf(workspace.dockerfile) },
          pull_policy: 'if_not_present',
        }
      : {}),
    // PID 1 a shell that ends on SIGTERM (a `sleep` would ignore it until the grace runs out);
    // no `init: true`, which would bind the engine's docker-init from the host.
    command: ['sh', '-c', "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $$!; done"],
    working_dir: WORKSPACE_MOUNT,
    ...(workspace.user ? { user: workspace.user } : {}),
    volumes: [`${escapeDollars(workspace.checkout)}:${WORKSPACE_MOUNT}`],
    networks: [WORKSPACE_NETWORK, ...workspace.allow],
    environment,
    labels: { [WORKSPACE_LABEL]: 'true' },
    stop_grace_period: '2s',
  }
  services[workspace.service] = service
  changes.push({
    subject: `service "${workspace.service}"`,
    change: `added: the workspace (${workspace.image}; the checkout at ${WORKSPACE_MOUNT}; networks ${[WORKSPACE_NETWORK, ...workspace.allow].join(', ')})`,
  })
}

function dirnameOf(path: string): string {
  const at = path.lastIndexOf('/')
  return at <= 0 ? '/' : escapeDollars(path.slice(0, at))
}

function basenameOf(path: string): string {
  return escapeDollars(path.slice(path.lastIndexOf('/') + 1))
}
