import { homedir } from 'node:os'
import { dirname, resolve } from 'node:path'
import type { Document, LineCounter, Node } from 'yaml'
import { yaml } from '../yaml-lazy.js'
import { type InstanceVariance, interpolate, resolveForTwoInstances, variesPerInstance } from './interpolate.js'
import { describeSensitiveMount, type HostPathContext, normaliseHostPath, sensitiveMount } from './mounts.js'
import { addProblem, IDENTITY_VARIABLES, type LintOptions, type LintReport, type LintRule } from './report.js'
import { isAllInterfaces, parsePortSpec, volumeSource } from './syntax.js'

/** An example slot variable for messages. */
const PORT_PLACEHOLDER = '$' + '{PORT}'

interface Entry {
  key: string
  keyNode: Node | undefined
  value: Node | undefined
}

/** Host namespaces a service can share with the host (`pid: host` …): warnings. */
/** The rules `compose.lint.strict` turns from warnings into errors: what exposes the host. */
const STRICT_RULES: ReadonlySet<LintRule> = new Set<LintRule>([
  'host-root-mount',
  'sensitive-mount',
  'port-all-interfaces',
  'host-network',
  'host-namespace',
  'privileged',
  'cap-add',
])

const HOST_NAMESPACES = ['pid', 'ipc', 'uts', 'userns_mode', 'cgroup']

/**
 * Walks one parsed compose file and records what breaks parallel instances or exposes the host.
 * Values are judged as compose will resolve them (see ./interpolate.ts): a `${VAR:-default}` name
 * or port is fixed unless VAR differs per instance.
 */
export class ComposeWalker {
  private readonly variance: InstanceVariance
  private readonly hostPaths: HostPathContext

  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
    private readonly options: LintOptions,
    private readonly report: LintReport,
  ) {
    // Compose expands `~` with the caller's home: without one given, this process's.
    const values = { HOME: options.home ?? options.variables?.HOME ?? homedir(), ...options.variables }
    this.variance = {
      values,
      instanceVariables: [...new Set([...IDENTITY_VARIABLES, ...(options.instanceVariables ?? [])])],
    }
    this.hostPaths = {
      home: values.HOME ?? options.home,
      projectDir: options.projectDir ?? resolve(dirname(file)),
    }
  }

  walk(): void {
    const root = this.entries(this.doc.contents as Node | null)
    for (const top of root) {
      if (top.key === 'services') for (const service of this.entries(top.value)) this.service(service)
      if (top.key === 'volumes' || top.key === 'networks') {
        const kind = top.key === 'volumes' ? 'volume' : 'network'
        for (const resource of this.entries(top.value)) {
          this.sharedResource(kind, resource)
          if (kind === 'volume') this.volumeDevice(resource)
        }
      }
    }
  }

  private service(service: Entry): void {
    const subject = `service "${service.key}"`
    const rendered = this.options.rendered ?? false
    // Warnings about host powers the user granted on purpose can be silenced by service name.
    const hostAccess = !(this.options.allowHostAccess?.includes(service.key) ?? false)
    for (const field of this.entries(service.value)) {
      // Rendering drops container_name, maps fixed ports to the instance's on 127.0.0.1.
      if (field.key === 'container_name' && !rendered) {
        const name = this.scalarText(field.value)
        this.problem(
          'error',
          field.keyNode,
          subject,
          'container-name',
          `container_name ${JSON.stringify(name)} fixes the container's name, so a second instance cannot start; remove it (compose names containers <project>-<service>-<n>)`,
        )
      }
      if (field.key === 'ports' && !rendered) {
        for (const port of this.items(field.value)) this.port(service.key, subject, port)
      }
      if (field.key === 'volumes') for (const volume of this.items(field.value)) this.volume(subject, volume)
      if (field.key === 'network_mode' && this.resolved(field.value) === 'host') {
        // Rendering cannot move ports a service binds on the host's own network: they collide.
        this.problem(
          rendered ? 'error' : 'warning',
          field.keyNode,
          subject,
          'host-network',
          `network_mode: host binds the service's ports directly on the host, so instances collide; use published ports instead`,
        )
      }
      if (HOST_NAMESPACES.includes(field.key) && this.resolved(field.value) === 'host' && hostAccess) {
        this.problem(
          'warning',
          field.keyNode,
          subject,
          'host-namespace',
          `${field.key}: host shares the host's ${field.key.replace('_mode', '')} namespace with the service (it sees and can signal the host's processes); drop it unless the service needs it`,
        )
      }
      if (field.key === 'privileged' && this.resolved(field.value) === 'true' && hostAccess) {
        this.problem(
          'warning',
          field.keyNode,
          subject,
          'privileged',
          "privileged: true gives the service every capability and the host's devices (root on the host); drop it, or add only the capabilities it needs",
        )
      }
      if (field.key === 'cap_add' && hostAccess) {
        const caps = this.items(field.value).map((item) => this.resolved(item) ?? '?')
        if (caps.length > 0) {
          this.problem(
            'warning',
            field.keyNode,
            subject,
            'cap-add',
            `cap_add: ${caps.join(', ')} gives the service kernel capabilities beyond the default set; make sure it needs them`,
          )
        }
      }
    }
  }

  private port(service: string, subject: string, node: Node): void {
    // Compose resolves variables first and parses the result: so does lint, once per instance.
    let one: { hostIp: string | undefined; host: string | undefined; container: string }
    let two: { host: string | undefined }
    let shown: string
    if (yaml().isMap(node)) {
      const fields = new Map(this.entries(node).map((entry) => [entry.key, this.scalarText(entry.value)]))
      const [published1, published2] = this.forTwoInstances(fields.get('published'))
      const hostIp = fields.get('host_ip')
      one = {
        hostIp: hostIp === undefined ? undefined : interpolate(hostIp, this.variance.values),
        host: published1,
        container: interpolate(fields.get('target') ?? '?', this.variance.values),
      }
      two = { host: published2 }
      shown = `published: ${fields.get('published') ?? '(random)'}, target: ${fields.get('target') ?? '?'}`
    } else {
      shown = this.scalarText(node) ?? ''
      const [text1, text2] = resolveForTwoInstances(shown, this.variance)
      one = parsePortSpec(text1)
      two = parsePortSpec(text2)
    }
    const exempt = this.options.allowFixedPorts?.includes(service) ?? false
    if (one.host && one.host === two.host && !exempt) {
      const written = shown.includes('$')
        ? ` (what "${shown}" resolves to in every instance: none of its variables is per-instance)`
        : ''
      this.problem(
        'error',
        node,
        subject,
        'fixed-host-port',
        `port "${shown}" publishes the fixed host port ${one.host}${written}, so a second instance cannot bind it; take it from a slot variable, e.g. "127.0.0.1:\${${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT}:${one.container}" (or list the service in compose.lint.allowFixedPorts)`,
      )
    }
    if (isAllInterfaces(one.hostIp) && !(this.options.allowAllInterfaces?.includes(service) ?? false)) {
      const where = one.hostIp ? `on ${one.hostIp}` : 'on all interfaces (no host IP)'
      this.problem(
        'error',
        node,
        subject,
        'port-all-interfaces',
        `port "${shown}" is published ${where}, so anyone on the network reaches the service; bind it to 127.0.0.1, e.g. "127.0.0.1:${one.host || PORT_PLACEHOLDER}:${one.container}" (or list the service in compose.lint.allowAllInterfaces)`,
      )
    }
  }

  private volume(subject: string, node: Node): void {
    let source: string | undefined
    let shown: string
    if (yaml().isMap(node)) {
      const fields = new Map(this.entries(node).map((entry) => [entry.key, this.scalarText(entry.value)]))
      const type = fields.get('type')
      const written = fields.get('source')
      source = (type === undefined || type === 'bind') && written !== undefined ? this.resolvedText(written) : undefined
      shown = `source: ${written ?? ''}`
    } else {
      shown = this.scalarText(node) ?? ''
      const parts = volumeSource(this.resolvedText(shown))
      // Compose takes a source as a host path when it starts with `.`, `/` or `~`; else it names a volume.
      source = parts !== undefined && /^[./~]/.test(parts) ? parts : undefined
    }
    if (source !== undefined) this.bindSource(subject, node, shown, source)
  }

  /** A top-level volume of the local driver with `o: bind` mounts its `device` from the host. */
  private volumeDevice(resource: Entry): void {
    const options = this.entries(resource.value).find((field) => field.key === 'driver_opts')
    if (!options) return
    const entries = this.entries(options.value)
    const field = (key: string) => entries.find((entry) => entry.key === key)
    const device = this.scalarText(field('device')?.value)
    if (device === undefined || !/(^|,)\s*r?bind\s*(,|$)/.test(this.resolved(field('o')?.value) ?? '')) return
    const where = field('device')?.value
    this.bindSource(`volume "${resource.key}"`, where, `driver_opts.device: ${device}`, this.resolvedText(device))
  }

  private bindSource(subject: string, node: Node | undefined, shown: string, source: string): void {
    const path = normaliseHostPath(source, this.hostPaths)
    const kind = sensitiveMount(path, this.hostPaths)
    if (!kind) return
    const allowed = this.options.allowMounts ?? []
    if (allowed.some((entry) => entry === source || normaliseHostPath(entry, this.hostPaths) === path)) return
    this.problem(
      'error',
      node,
      subject,
      kind === 'host-root' ? 'host-root-mount' : 'sensitive-mount',
      `volume "${shown}" bind-mounts ${describeSensitiveMount(kind, path)}; mount only the folders the service needs (or list ${JSON.stringify(path)} in compose.lint.allowMounts)`,
    )
  }

  private sharedResource(kind: 'volume' | 'network', resource: Entry): void {
    if (this.options.allowShared?.includes(resource.key)) return
    const subject = `${kind} "${resource.key}"`
    const fields = this.entries(resource.value)
    const external = fields.find((field) => field.key === 'external')
    const isExternal =
      external && (yaml().isMap(this.deref(external.value)) || this.scalarText(external.value) === 'true')
    if (external && isExternal) {
      // Rendering keeps an external resource (shared on purpose, it assumes) and says so.
      this.problem(
        this.options.rendered ? 'warning' : 'error',
        external.keyNode,
        subject,
        'shared-resource',
        `external: true makes every instance share this ${kind}; drop it so compose creates one per project (or list it in compose.lint.allowShared)`,
      )
      return
    }
    const name = fields.find((field) => field.key === 'name')
    const written = name ? this.scalarText(name.value) : undefined
    if (name && written !== undefined && !variesPerInstance(written, this.variance) && !this.options.rendered) {
      const resolved = this.resolvedText(written)
      const how =
        resolved === written
          ? ''
          : ` (what ${JSON.stringify(written)} resolves to in every instance: none of its variables is per-instance)`
      this.problem(
        'error',
        name.keyNode,
        subject,
        'shared-resource',
        `name: ${JSON.stringify(resolved)}${how} gives this ${kind} the same name in every instance, so instances share its data and one's 'done' deletes it for all; drop it so compose prefixes the project name, or build it from \${COMPOSE_PROJECT_NAME} (or list it in compose.lint.allowShared)`,
      )
    }
  }

  /** Key/value pairs of a mapping, following aliases and `<<` merge keys (own keys win). */
  private entries(node: Node | null | undefined, depth = 0): Entry[] {
    const map = this.deref(node)
    if (!yaml().isMap(map) || depth > 8) return []
    const own: Entry[] = []
    const merged: Entry[] = []
    for (const pair of map.items) {
      const keyNode = yaml().isScalar(pair.key) ? pair.key : undefined
      const key = keyNode ? String(keyNode.value) : ''
      const value = (pair.value ?? undefined) as Node | undefined
      if (key === '<<') {
        const sources = yaml().isSeq(this.deref(value)) ? this.items(value) : [value]
        for (const source of sources) merged.push(...this.entries(source, depth + 1))
      } else {
        own.push({ key, keyNode, value })
      }
    }
    return [...own, ...merged.filter((entry) => !own.some((mine) => mine.key === entry.key))]
  }

  private items(node: Node | undefined): Node[] {
    const seq = this.deref(node)
    return yaml().isSeq(seq)
      ? seq.items.map((item) => this.deref(item as Node)).filter((item) => item !== undefined)
      : []
  }

  private deref(node: Node | null | undefined): Node | undefined {
    let current = node ?? undefined
    for (let hops = 0; yaml().isAlias(current) && hops < 8; hops++) current = current.resolve(this.doc)
    return current
  }

  /** A scalar's text as compose resolves it (shared variables only). */
  private resolved(node: Node | undefined): string | undefined {
    const text = this.scalarText(node)
    return text === undefined ? undefined : this.resolvedText(text)
  }

  private resolvedText(text: string): string {
    return resolveForTwoInstances(text, this.variance)[0]
  }

  private forTwoInstances(text: string | undefined): [string | undefined, string | undefined] {
    return text === undefined ? [undefined, undefined] : resolveForTwoInstances(text, this.variance)
  }

  private scalarText(node: Node | undefined): string | undefined {
    const scalar = this.deref(node)
    return yaml().isScalar(scalar) && scalar.value !== null ? String(scalar.value) : undefined
  }

  private problem(
    severity: 'error' | 'warning',
    node: Node | undefined,
    subject: string,
    rule: LintRule,
    message: string,
  ): void {
    const pos = node?.range ? this.lines.linePos(node.range[0]) : { line: 0, col: 0 }
    const level = this.options.strict && STRICT_RULES.has(rule) ? 'error' : severity
    const list = level === 'error' ? this.report.errors : this.report.warnings
    addProblem(list, { file: this.file, line: pos.line, column: pos.col, subject, rule, message })
  }
}
