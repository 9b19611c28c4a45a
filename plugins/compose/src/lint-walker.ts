import type { Document, LineCounter, Node } from 'yaml'
import { addProblem, type LintOptions, type LintReport, type LintRule } from './lint-report.js'
import { hasVariable, hostRootMount, isAllInterfaces, parsePortSpec, volumeSource } from './lint-syntax.js'
import { yaml } from './yaml-lazy.js'

/** An example slot variable for messages. */
const PORT_PLACEHOLDER = '$' + '{PORT}'

interface Entry {
  key: string
  keyNode: Node | undefined
  value: Node | undefined
}

/** Walks one parsed compose file and records what breaks parallel instances. */
export class ComposeWalker {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly file: string,
    private readonly options: LintOptions,
    private readonly report: LintReport,
  ) {}

  walk(): void {
    const root = this.entries(this.doc.contents as Node | null)
    for (const top of root) {
      if (top.key === 'services') for (const service of this.entries(top.value)) this.service(service)
      if (top.key === 'volumes' || top.key === 'networks') {
        const kind = top.key === 'volumes' ? 'volume' : 'network'
        for (const resource of this.entries(top.value)) this.sharedResource(kind, resource)
      }
    }
  }

  private service(service: Entry): void {
    const subject = `service "${service.key}"`
    for (const field of this.entries(service.value)) {
      if (field.key === 'container_name') {
        const name = this.scalarText(field.value)
        this.problem(
          'error',
          field.keyNode,
          subject,
          'container-name',
          `container_name ${JSON.stringify(name)} fixes the container's name, so a second instance cannot start; remove it (compose names containers <project>-<service>-<n>)`,
        )
      }
      if (field.key === 'ports') for (const port of this.items(field.value)) this.port(service.key, subject, port)
      if (field.key === 'volumes') for (const volume of this.items(field.value)) this.volume(subject, volume)
      if (field.key === 'network_mode' && this.scalarText(field.value) === 'host') {
        this.problem(
          'warning',
          field.keyNode,
          subject,
          'host-network',
          `network_mode: host binds the service's ports directly on the host, so instances collide; use published ports instead`,
        )
      }
    }
  }

  private port(service: string, subject: string, node: Node): void {
    let hostIp: string | undefined
    let host: string | undefined
    let container: string
    let shown: string
    if (yaml().isMap(node)) {
      const fields = new Map(this.entries(node).map((entry) => [entry.key, this.scalarText(entry.value)]))
      hostIp = fields.get('host_ip')
      host = fields.get('published')
      container = fields.get('target') ?? '?'
      shown = `published: ${host ?? '(random)'}, target: ${container}`
    } else {
      shown = this.scalarText(node) ?? ''
      ;({ hostIp, host, container } = parsePortSpec(shown))
    }
    const exempt = this.options.allowFixedPorts?.includes(service) ?? false
    if (host && !hasVariable(host) && !exempt) {
      this.problem(
        'error',
        node,
        subject,
        'fixed-host-port',
        `port "${shown}" publishes the fixed host port ${host}, so a second instance cannot bind it; take it from a slot variable, e.g. "127.0.0.1:\${${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_PORT}:${container}" (or list the service in compose.lint.allowFixedPorts)`,
      )
    }
    if (isAllInterfaces(hostIp)) {
      const where = hostIp ? `on ${hostIp}` : 'on all interfaces (no host IP)'
      this.problem(
        'warning',
        node,
        subject,
        'port-all-interfaces',
        `port "${shown}" is published ${where}; berth's default is 127.0.0.1, e.g. "127.0.0.1:${host || PORT_PLACEHOLDER}:${container}"`,
      )
    }
  }

  private volume(subject: string, node: Node): void {
    let source: string | undefined
    let shown: string
    if (yaml().isMap(node)) {
      const fields = new Map(this.entries(node).map((entry) => [entry.key, this.scalarText(entry.value)]))
      const type = fields.get('type')
      source = type === undefined || type === 'bind' ? fields.get('source') : undefined
      shown = `source: ${source ?? ''}`
    } else {
      shown = this.scalarText(node) ?? ''
      source = volumeSource(shown)
    }
    const root = source === undefined ? undefined : hostRootMount(source)
    if (root) {
      this.problem(
        'error',
        node,
        subject,
        'host-root-mount',
        `volume "${shown}" bind-mounts the host's ${root}; mount only the folders the service needs`,
      )
    }
  }

  private sharedResource(kind: 'volume' | 'network', resource: Entry): void {
    if (this.options.allowShared?.includes(resource.key)) return
    const subject = `${kind} "${resource.key}"`
    const fields = this.entries(resource.value)
    const external = fields.find((field) => field.key === 'external')
    const isExternal =
      external && (yaml().isMap(this.deref(external.value)) || this.scalarText(external.value) === 'true')
    if (external && isExternal) {
      this.problem(
        'error',
        external.keyNode,
        subject,
        'shared-resource',
        `external: true makes every instance share this ${kind}; drop it so compose creates one per project (or list it in compose.lint.allowShared)`,
      )
      return
    }
    const name = fields.find((field) => field.key === 'name')
    const fixed = name ? this.scalarText(name.value) : undefined
    if (name && fixed !== undefined && !hasVariable(fixed)) {
      this.problem(
        'error',
        name.keyNode,
        subject,
        'shared-resource',
        `name: ${JSON.stringify(fixed)} gives this ${kind} the same name in every instance; drop it so compose prefixes the project name (or list it in compose.lint.allowShared)`,
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
    const list = severity === 'error' ? this.report.errors : this.report.warnings
    addProblem(list, { file: this.file, line: pos.line, column: pos.col, subject, rule, message })
  }
}
