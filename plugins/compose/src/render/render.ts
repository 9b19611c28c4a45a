import type { InstanceProfile } from '@berth/contract'
import { interpolate, referencedVariables, type VariableValues } from '../lint/interpolate.js'
import { isAllInterfaces } from '../lint/syntax.js'
import type { ComposeModel } from '../model/load.js'
import { isMapping, type Mapping, toList } from '../model/normalise.js'
import { formatPortEntry, type PortMapping, parsePortEntry } from '../model/ports.js'
import { yaml } from '../yaml-lazy.js'
import { addIdentity, type EnvFileTelemetry } from './identity.js'
import { type PublishedHostPorts, resolvePublished } from './published.js'
import { addWorkspace, type WorkspaceRender } from './workspace.js'

export interface RenderOptions {
  /** The berth project (the `berth.project` label). */
  project: string
  /** Where published ports bind when the file names no host IP or all interfaces (default 127.0.0.1). */
  hostIp: string
  /**
   * The instance's variables (its `.env.sandbox` names and the identity): a value naming one
   * already differs per instance and is kept as written; a fixed host port is mapped to one.
   */
  instanceVariables: ReadonlySet<string>
  /** What compose resolves every other variable with (the project's `.env`): for `${X:-5432}`. */
  variables: VariableValues
  /**
   * The variable carrying each fixed host port (ports plugin): one name per port of each entry,
   * or undefined when nothing names it. Absent: fixed ports are left as they are.
   */
  nameHostPorts?: ((published: PublishedHostPorts[]) => (string[] | undefined)[]) | undefined
  /** What the service's env files say about the telemetry variables (read by the caller). */
  envFileTelemetry: (service: string, settings: Mapping) => EnvFileTelemetry
  /** Tag the images the files build per instance (`compose.render.instanceImages`). */
  instanceImages?: boolean | undefined
  /** The instance's slot profile: `scale:` per service, compose profiles turned on. */
  profile?: Pick<InstanceProfile, 'name' | 'scale' | 'composeProfiles'> | undefined
  /**
   * Names that resolve to the engine's host gateway in every service (`host.docker.internal`):
   * the instance kind may reach host services. Empty or absent: nothing is added.
   */
  hostGateway?: string[] | undefined
  /** CPU and memory limits for every service (`compose.limits`); a service's own limit is kept. */
  limits?: { memory?: string | undefined; cpus?: number | undefined } | undefined
  /** The workspace service and its internal network (the `workspace` section); absent: none. */
  workspace?: WorkspaceRender | undefined
}

/** `myapp:dev` -> `myapp:dev-${INSTANCE_ID}`; `myapp` -> `myapp:latest-${INSTANCE_ID}`; digests stay. */
function instanceImage(image: string): string | undefined {
  if (image.includes('@')) return undefined
  const slash = image.lastIndexOf('/')
  const colon = image.lastIndexOf(':')
  return colon > slash ? `${image}-\${INSTANCE_ID}` : `${image}:latest-\${INSTANCE_ID}`
}

/** One thing rendering changed, for `berth compose config` and the progress log. */
export interface RenderChange {
  /** `service "db"`, `volume "data"`, `network "edge"`. */
  subject: string
  change: string
}

/** A published port as the rendered file binds it. */
export interface RenderedPort {
  service: string
  /** As written in the user's file. */
  written: string
  /** As rendered. */
  rendered: string
  /** The `.env.sandbox` variable(s) holding the host port, when berth mapped it. */
  variables: string[]
}

export interface RenderResult {
  doc: Mapping
  changes: RenderChange[]
  /** One line each: what rendering cannot make per-instance, or did not. */
  warnings: string[]
  ports: RenderedPort[]
}

/**
 * Turns the user's merged compose model into the file berth runs for one instance: every fixed
 * published port mapped to the instance's port variable and bound to `hostIp`, `container_name`
 * dropped, fixed volume/network names made per-instance (external ones kept), and the instance's
 * identity in every service. `${VAR}` references are kept, so no value enters the file.
 */
export function renderModel(model: ComposeModel, options: RenderOptions): RenderResult {
  const changes: RenderChange[] = []
  const warnings: string[] = []
  const ports: RenderedPort[] = []
  const doc: Mapping = { ...model.doc }
  if (doc.name !== undefined) {
    // berth names the project (-p <instance id>); Compose v1 also refuses a top-level name.
    changes.push({
      subject: 'the file',
      change: `top-level name ${JSON.stringify(doc.name)} dropped: the project is the instance's`,
    })
    delete doc.name
  }
  const services: Mapping = {}
  const droppedNames: string[] = []

  // Images the files build: a fixed tag is shared by every instance's build of it.
  const built = new Set(
    Object.values(model.services)
      .filter((service) => service.build !== undefined && typeof service.image === 'string')
      .map((service) => service.image as string),
  )
  const warnedImages = new Set<string>()

  const fixed = collectFixedPorts(model, options)
  const names = options.nameHostPorts?.(fixed.map((entry) => entry.published)) ?? []
  const nameOf = new Map(fixed.map((entry, index) => [entry.id, names[index]]))

  for (const [name, original] of Object.entries(model.services)) {
    const subject = `service "${name}"`
    let service: Mapping = { ...original }
    if (service.container_name !== undefined) {
      droppedNames.push(`${name} (${String(service.container_name)})`)
      const alias = String(service.container_name)
      delete service.container_name
      const aliased = aliasOnOwnNetworks(service, alias, model.doc.networks)
      changes.push({
        subject,
        change: `container_name ${JSON.stringify(alias)} dropped${aliased === service ? '' : ': kept as a network alias, so the other services still reach it by that name'}`,
      })
      service = aliased
    }
    if (typeof service.image === 'string' && built.has(service.image)) {
      const own = options.instanceImages ? instanceImage(service.image) : undefined
      if (own) {
        changes.push({ subject, change: `image ${service.image} -> ${own}` })
        service.image = own
      } else if (options.instanceImages === undefined && !warnedImages.has(service.image)) {
        warnedImages.add(service.image)
        warnings.push(
          `image ${service.image} is built by the compose files and shared by every instance: a rebuild in one instance changes what the others start next (compose.render.instanceImages: true gives each instance its own tag)`,
        )
      }
    }
    if (service.ports !== undefined) {
      service.ports = toList(service.ports).map((entry, index) => {
        const mapping = parsePortEntry(entry)
        if (!mapping) return entry
        const rendered = renderPort(mapping, nameOf.get(`${name}#${index}`), options)
        const written = typeof entry === 'object' ? JSON.stringify(entry) : String(entry)
        const text = typeof rendered.entry === 'string' ? rendered.entry : JSON.stringify(rendered.entry)
        ports.push({ service: name, written, rendered: text, variables: rendered.variables })
        if (text !== written) changes.push({ subject, change: `port ${written} -> ${text}` })
        if (rendered.warning) warnings.push(`${subject}: ${rendered.warning}`)
        return rendered.entry
      })
    }
    service = applyProfile(name, service, options.profile, changes)
    if (options.hostGateway && options.hostGateway.length > 0) {
      service = addHostGateway(service, options.hostGateway)
      changes.push({ subject, change: `${options.hostGateway.join(', ')} -> the engine's host gateway (extra_hosts)` })
    }
    service = applyLimits(name, service, options.limits, changes)
    const identity = addIdentity(name, service, options.project, options.envFileTelemetry(name, original))
    service = identity.service
    for (const note of identity.notes) changes.push({ subject, change: note })
    services[name] = service
  }
  if (options.workspace) {
    const name = options.workspace.service
    addWorkspace(doc, services, options.workspace, changes, warnings)
    const limited = applyLimits(name, services[name] as Mapping, options.limits, changes)
    services[name] = addIdentity(name, limited, options.project, {}).service
  }
  doc.services = services
  for (const service of Object.keys(options.profile?.scale ?? {})) {
    if (!(service in services))
      warnings.push(`profile ${options.profile!.name} scales service "${service}", which the compose files do not have`)
  }
  for (const [service, count] of Object.entries(options.profile?.scale ?? {})) {
    if (count > 1 && ports.some((port) => port.service === service && port.variables.length > 0)) {
      warnings.push(
        `profile ${options.profile!.name} runs ${count} containers of "${service}", which publishes a host port: only one of them can bind it (publish no host port, or one service per port)`,
      )
    }
  }
  if (droppedNames.length > 0) {
    warnings.push(
      `container_name dropped (compose names each instance's containers itself): ${droppedNames.join(', ')}`,
    )
  }
  for (const kind of ['volumes', 'networks'] as const) {
    const resources = doc[kind]
    if (!isMapping(resources)) continue
    const rendered: Mapping = {}
    for (const [key, settings] of Object.entries(resources)) {
      const noun = kind === 'volumes' ? 'volume' : 'network'
      const subject = `${noun} "${key}"`
      if (!isMapping(settings)) {
        rendered[key] = settings
        continue
      }
      if (settings.external !== undefined && settings.external !== false) {
        warnings.push(`${subject} is external: every instance shares it (on purpose, berth assumes)`)
        rendered[key] = settings
        continue
      }
      const fixedName = settings.name
      if (fixedName !== undefined && !variesPerInstance(String(fixedName), options)) {
        const { name: _fixed, ...rest } = settings
        rendered[key] = rest
        changes.push({
          subject,
          change: `fixed name ${JSON.stringify(fixedName)} dropped: each instance gets its own (<project>_${key})`,
        })
        continue
      }
      rendered[key] = settings
    }
    doc[kind] = rendered
  }
  return { doc, changes, warnings, ports }
}

/**
 * `alias` (a dropped `container_name`) as a network alias of the service on each network it joins
 * that is the instance's own — `default` when it lists none; never on an external network, where
 * every instance would answer to it. A service with a `network_mode` is left as it is.
 */
function aliasOnOwnNetworks(service: Mapping, alias: string, declared: unknown): Mapping {
  if (service.network_mode !== undefined) return service
  const own = service.networks
  let joined: Mapping
  if (own === undefined || own === null) joined = { default: null }
  else if (Array.isArray(own)) joined = Object.fromEntries(own.map((name) => [String(name), null]))
  else if (isMapping(own)) joined = { ...own }
  else return service
  const external = (name: string) => {
    const settings = isMapping(declared) ? declared[name] : undefined
    return isMapping(settings) && settings.external !== undefined && settings.external !== false
  }
  let changed = false
  for (const [name, settings] of Object.entries(joined)) {
    if (external(name)) continue
    const entry: Mapping = isMapping(settings) ? { ...settings } : {}
    const aliases = toList(entry.aliases).map(String)
    if (aliases.includes(alias)) continue
    joined[name] = { ...entry, aliases: [...aliases, alias] }
    changed = true
  }
  return changed ? { ...service, networks: joined } : service
}

/** The rendered file's text: YAML that Compose v1 (YAML 1.1) and v2 read alike. */
export function formatRendered(doc: Mapping, header: string[]): string {
  const { Document } = yaml()
  const body = new Document(doc, { version: '1.1' }).toString({ lineWidth: 0, indentSeq: true })
  return `${header.map((line) => `# ${line}`).join('\n')}\n${body}`
}

interface FixedEntry {
  /** `<service>#<index in its ports list>`. */
  id: string
  published: PublishedHostPorts
}

function collectFixedPorts(model: ComposeModel, options: RenderOptions): FixedEntry[] {
  const entries: FixedEntry[] = []
  for (const [service, settings] of Object.entries(model.services)) {
    for (const [index, entry] of toList(settings.ports).entries()) {
      const mapping = parsePortEntry(entry)
      if (!mapping) continue
      const value = resolvePublished(mapping.published, options.instanceVariables, options.variables)
      if (value.kind === 'fixed')
        entries.push({ id: `${service}#${index}`, published: { service, ports: value.ports } })
    }
  }
  return entries
}

function renderPort(
  mapping: PortMapping,
  names: string[] | undefined,
  options: RenderOptions,
): { entry: string | Record<string, unknown>; variables: string[]; warning?: string } {
  const port: PortMapping = { ...mapping, hostIp: renderHostIp(mapping.hostIp, options) }
  const value = resolvePublished(mapping.published, options.instanceVariables, options.variables)
  if (value.kind === 'instance') {
    return {
      entry: formatPortEntry(port),
      variables: referencedVariables(value.text).filter((v) => options.instanceVariables.has(v)),
    }
  }
  if (value.kind === 'random') {
    const written = mapping.published?.trim() ?? ''
    if (written === '') return { entry: formatPortEntry({ ...port, published: undefined }), variables: [] }
    // Variables that resolve to nothing here (not in .env, not in the port layout): left as written,
    // so compose resolves them as it would without berth — a `${X:?message}` refuses to start with
    // the file's own message, a value from berth's environment is used, an unset one gives a random port.
    const unset = referencedVariables(written).filter((name) => !options.variables[name])
    return {
      entry: formatPortEntry(port),
      variables: [],
      warning: `published port ${JSON.stringify(written)}: ${unset.join(', ') || 'its variable'} is in neither .env nor the config's ports, so compose resolves it when it starts (\${X:?…} refuses to start; unset, a random host port); add it to ports in the berth config for a port of this instance`,
    }
  }
  if (value.kind === 'unknown') {
    return {
      entry: formatPortEntry(port),
      variables: [],
      warning: `published port ${JSON.stringify(value.text)} is not a port berth can read; left as written`,
    }
  }
  const shown = value.ports.length === 1 ? String(value.ports[0]) : `${value.ports[0]}-${value.ports.at(-1)}`
  if (!names || names.length !== value.ports.length) {
    if (!options.nameHostPorts) return { entry: formatPortEntry(port), variables: [] }
    return {
      entry: formatPortEntry({ ...port, published: undefined }),
      variables: [],
      warning: `host port ${shown} has no port of this instance; published on a random port instead (berth sandbox status shows it)`,
    }
  }
  const missing = names.filter((name) => !options.instanceVariables.has(name))
  if (missing.length > 0) {
    return {
      entry: formatPortEntry({ ...port, published: undefined }),
      variables: [],
      warning: `host port ${shown} has no port in this instance's claim (${missing.join(', ')}: the compose files changed since it was claimed); published on a random port — 'berth done' and claim again for a fixed one`,
    }
  }
  const published = names.length === 1 ? `\${${names[0]}}` : `\${${names[0]}}-\${${names.at(-1)}}`
  return { entry: formatPortEntry({ ...port, published }), variables: names }
}

function renderHostIp(hostIp: string | undefined, options: RenderOptions): string {
  if (hostIp === undefined) return options.hostIp
  if (referencedVariables(hostIp).some((name) => options.instanceVariables.has(name))) return hostIp
  return isAllInterfaces(interpolate(hostIp, options.variables).replace(/^\[(.*)\]$/, '$1')) ? options.hostIp : hostIp
}

function variesPerInstance(text: string, options: RenderOptions): boolean {
  return referencedVariables(text).some((name) => options.instanceVariables.has(name))
}

/**
 * The profile's `scale` as `scale:` (a `deploy.replicas` is replaced: compose v2 refuses the two
 * disagreeing), and its compose profiles turned on: a service whose `profiles:` names one of them
 * loses the key, so it starts with the rest.
 */
function applyProfile(
  name: string,
  original: Mapping,
  profile: RenderOptions['profile'],
  changes: RenderChange[],
): Mapping {
  if (!profile) return original
  const service: Mapping = { ...original }
  const subject = `service "${name}"`
  const count = profile.scale[name]
  if (count !== undefined) {
    service.scale = count
    if (isMapping(service.deploy) && service.deploy.replicas !== undefined) {
      const { replicas: _replicas, ...deploy } = service.deploy
      service.deploy = deploy
    }
    changes.push({ subject, change: `scale ${count} (profile ${profile.name})` })
  }
  const own = toList(service.profiles).map(String)
  if (own.length > 0 && own.some((p) => profile.composeProfiles.includes(p))) {
    delete service.profiles
    changes.push({ subject, change: `compose profile ${own.join(', ')} on (profile ${profile.name})` })
  }
  return service
}

/** `extra_hosts: [<name>:host-gateway]` next to the service's own entries (a name it maps itself is kept). */
function addHostGateway(original: Mapping, names: string[]): Mapping {
  const service: Mapping = { ...original }
  const entries = isMapping(service.extra_hosts)
    ? Object.entries(service.extra_hosts).map(([host, ip]) => `${host}:${String(ip)}`)
    : toList(service.extra_hosts).map(String)
  const mapped = new Set(entries.map((entry) => entry.split(/[:=]/)[0]))
  service.extra_hosts = [...entries, ...names.filter((name) => !mapped.has(name)).map((name) => `${name}:host-gateway`)]
  return service
}

/**
 * `mem_limit` / `cpus` from `compose.limits` (Compose v1 1.29 ignores `deploy.resources` outside
 * swarm without --compatibility; both versions read these keys). A service that limits itself keeps
 * its own value.
 */
function applyLimits(
  name: string,
  original: Mapping,
  limits: RenderOptions['limits'],
  changes: RenderChange[],
): Mapping {
  if (!limits || (limits.memory === undefined && limits.cpus === undefined)) return original
  const service: Mapping = { ...original }
  const own =
    isMapping(service.deploy) && isMapping(service.deploy.resources) && isMapping(service.deploy.resources.limits)
      ? service.deploy.resources.limits
      : {}
  const subject = `service "${name}"`
  if (limits.memory !== undefined && service.mem_limit === undefined && own.memory === undefined) {
    service.mem_limit = limits.memory
    changes.push({ subject, change: `memory limit ${limits.memory} (compose.limits)` })
  }
  if (limits.cpus !== undefined && service.cpus === undefined && own.cpus === undefined) {
    service.cpus = limits.cpus
    changes.push({ subject, change: `cpu limit ${limits.cpus} (compose.limits)` })
  }
  return service
}
