import type { ComposeServiceSummary, ComposeSummary } from '@berth/contract'

/** A port rule as `berth setup` writes it (the `ports` section's form). */
export interface InferredPort {
  base: number
  stride: number
  count?: number
  /** Why: `db publishes "5432:5432"`. */
  reason: string
}

/** One gate check as `berth setup` writes it, with why. */
export interface InferredCheck {
  check: Record<string, unknown>
  reason: string
}

export interface InferredConfig {
  ports: Record<string, InferredPort>
  stride: number
  checks: InferredCheck[]
  /** The port variable of the first service that evidently serves HTTP: `berth url` prints it. */
  urlPortVar?: string | undefined
  /** What setup noticed and did about it, one line each, for the human. */
  notes: string[]
}

/** Strides setup tries, smallest first: the first one that keeps slots 0..max apart wins. */
const STRIDES = [1, 10, 100, 1000]

/** Container ports that serve HTTP often enough that an HTTP check is the better gate. */
const HTTP_PORTS = new Set(['80', '3000', '4000', '5000', '8000', '8080', '8081', '8888'])
/** Images whose services answer HTTP on their published port. */
const HTTP_IMAGES = /(^|\/)(nginx|httpd|caddy|traefik|grafana|jaeger|prometheus|kibana|mailhog|mailpit|minio)([:@]|$)/

/**
 * An HTTP answer that proves the server is up: anything but a server error (a 404 at `/` is a
 * running server whose root has no page).
 */
export const HTTP_UP_STATUSES = [200, 201, 204, 301, 302, 303, 304, 307, 308, 401, 403, 404]

/**
 * A config that fits the stack: one port variable per published host port (base = today's port,
 * so berth's rendering names it and local-prod keeps it), one stride for all chosen so that no two
 * slots up to `maxSlot` share a port (checked with `problems`), and a gate from what the stack
 * declares — its healthchecks, else TCP (HTTP where the port evidently serves HTTP).
 */
export function inferConfig(
  summary: ComposeSummary,
  maxSlot: number,
  problems: (layout: Record<string, unknown>, maxSlot: number) => string[],
): InferredConfig {
  const notes: string[] = []
  const ports: Record<string, Omit<InferredPort, 'stride'>> = {}
  const portVariable = new Map<string, string>() // `${service}#${index}` -> variable of its first port
  const taken = new Set<string>()
  /** Host port(s) -> the variable already carrying them: `53/tcp` and `53/udp` on one host port share it. */
  const byHostPorts = new Map<string, string>()
  const nameFor = (wanted: string): string => {
    let name = wanted
    for (let n = 2; taken.has(name); n++) name = `${wanted}_${n}`
    taken.add(name)
    return name
  }

  for (const service of summary.services) {
    const stem = envStem(service.name)
    for (const [index, entry] of service.parameterised.entries()) {
      if (taken.has(entry.variable)) continue
      taken.add(entry.variable)
      const base = entry.default ?? Number(entry.target)
      if (!Number.isInteger(base) || base < 1 || base > 65535) {
        notes.push(
          `${service.name}: its port variable ${entry.variable} has no number to start from; add it to ports yourself`,
        )
        continue
      }
      ports[entry.variable] = {
        base,
        reason: `${service.name} already publishes \${${entry.variable}}${entry.default === undefined ? ` (no default: base = its container port ${base})` : entry.defaultFrom === '.env' ? ` (${entry.variable}=${base} in .env)` : ''}`,
      }
      portVariable.set(`${service.name}#p${index}`, entry.variable)
    }
    const single = service.fixed.length === 1 && service.fixed[0]?.ports.length === 1
    for (const [index, entry] of service.fixed.entries()) {
      const first = entry.ports[0] as number
      const shown = entry.ports.length === 1 ? String(first) : `${first}-${entry.ports.at(-1)}`
      const same = byHostPorts.get(entry.ports.join(','))
      if (same) {
        // One host port published twice (tcp and udp, or two host addresses): one variable, so
        // the layout never gives one port twice and rendering maps both entries to it.
        portVariable.set(`${service.name}#f${index}`, entry.ports.length > 1 ? `${same}_1` : same)
        continue
      }
      const name = nameFor(single || entry.ports.length > 1 ? `${stem}_PORT` : `${stem}_${first}_PORT`)
      ports[name] = {
        base: first,
        ...(entry.ports.length > 1 ? { count: entry.ports.length } : {}),
        reason: `${service.name} publishes host port ${shown} (container ${entry.target})`,
      }
      portVariable.set(`${service.name}#f${index}`, entry.ports.length > 1 ? `${name}_1` : name)
      byHostPorts.set(entry.ports.join(','), name)
    }
    if (service.containerName) {
      notes.push(
        `${service.name}: container_name ${service.containerName} — berth's rendering drops it for each instance (your file is not changed)`,
      )
    }
  }

  const stride = chooseStride(ports, maxSlot, problems)
  notes.unshift(
    stride.problems.length === 0
      ? `stride ${stride.value}: slot N = base + ${stride.value}×N, and slots 0..${maxSlot} never share a port (checked)`
      : `no stride of ${STRIDES.join(', ')} keeps slots 0..${maxSlot} apart: ${stride.problems[0]} — adjust the bases or strides`,
  )
  const checks: InferredCheck[] = summary.services.flatMap((service) => gateCheck(service, portVariable))
  for (const service of summary.services) {
    if (!checks.some((check) => check.check.name === service.name)) {
      notes.push(`${service.name}: no published port and no healthcheck — not in the gate`)
    }
  }
  const urlPortVar = checks
    .map(({ check }) => (typeof check.http === 'string' ? /\$\{([A-Z0-9_]+)\}/.exec(check.http)?.[1] : undefined))
    .find((name) => name !== undefined)
  if (urlPortVar) notes.push(`url: berth url (and impl's output) point at ${urlPortVar}, the first HTTP port`)
  return {
    urlPortVar,
    ports: Object.fromEntries(Object.entries(ports).map(([name, rule]) => [name, { ...rule, stride: stride.value }])),
    stride: stride.value,
    checks,
    notes,
  }
}

/** True when the stack is written for the KTRDR layout (its ports read the preset's variables). */
export function isKtrdrShaped(summary: ComposeSummary): boolean {
  return summary.services.some((service) => service.parameterised.some((entry) => entry.variable.startsWith('KTRDR_')))
}

function chooseStride(
  ports: Record<string, Omit<InferredPort, 'stride'>>,
  maxSlot: number,
  problems: (layout: Record<string, unknown>, maxSlot: number) => string[],
): { value: number; problems: string[] } {
  const widest = Math.max(1, ...Object.values(ports).map((rule) => rule.count ?? 1))
  let last: string[] = []
  for (const stride of STRIDES.filter((value) => value >= widest)) {
    const layout = Object.fromEntries(
      Object.entries(ports).map(([name, rule]) => [
        name,
        { base: rule.base, stride, ...(rule.count ? { count: rule.count } : {}) },
      ]),
    )
    last = problems(layout, maxSlot)
    if (last.length === 0) return { value: stride, problems: [] }
  }
  return { value: STRIDES.at(-1) as number, problems: last }
}

function gateCheck(service: ComposeServiceSummary, portVariable: Map<string, string>): InferredCheck[] {
  if (service.healthcheck) {
    return [
      {
        check: { name: service.name, healthy: service.name },
        reason: `${service.name} has a healthcheck: wait for the engine's healthy`,
      },
    ]
  }
  // The service's published ports in file order; the first that looks like HTTP, else the first.
  const entries = [
    ...service.fixed.map((entry, n) => ({
      key: `${service.name}#f${n}`,
      target: entry.target,
      index: entry.index ?? n,
    })),
    ...service.parameterised.map((entry, n) => ({
      key: `${service.name}#p${n}`,
      target: entry.target,
      index: entry.index ?? n,
    })),
  ]
    .filter((entry) => portVariable.has(entry.key))
    .sort((a, b) => a.index - b.index)
  const chosen = entries.find((entry) => HTTP_PORTS.has(entry.target)) ?? entries[0]
  if (!chosen) return []
  const variable = portVariable.get(chosen.key) as string
  const target = chosen.target
  const http = HTTP_PORTS.has(target) || HTTP_IMAGES.test(service.image ?? '')
  if (http) {
    return [
      {
        check: {
          name: service.name,
          http: `http://127.0.0.1:\${${variable}}/`,
          expect: { status: HTTP_UP_STATUSES },
          service: service.name,
        },
        reason: `${service.name} has no healthcheck; port ${target} looks like HTTP: any answer but a server error`,
      },
    ]
  }
  return [
    {
      check: { name: service.name, tcp: `\${${variable}}`, service: service.name },
      reason: `${service.name} has no healthcheck: wait until port ${target} accepts connections`,
    },
  ]
}

/** `my-api.v2` -> `MY_API_V2`. */
function envStem(service: string): string {
  const stem = service
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return /^[A-Z_]/.test(stem) ? stem : `_${stem}`
}
