import { splitOutside } from '../lint/syntax.js'

/**
 * One entry of a service's `ports`, short or long syntax, as written: every part is text that may
 * hold `${VAR}` references (nothing is resolved here).
 */
export interface PortMapping {
  /** The host IP without IPv6 brackets; undefined when none is written. */
  hostIp: string | undefined
  /** The host port or range (`5432`, `8000-8005`, `${API_PORT}`); undefined or '' = a random host port. */
  published: string | undefined
  /** The container port or range. */
  target: string
  /** `tcp` (the default), `udp` or `sctp`; undefined when not written. */
  protocol: string | undefined
  /** Long-syntax keys the short syntax cannot say (`mode`, `name`, `app_protocol`). */
  extra: Record<string, unknown>
}

const LONG_KEYS = new Set(['target', 'published', 'host_ip', 'protocol'])

/** Reads one `ports` entry: `5432`, `"5432:5432"`, `"127.0.0.1:${P}:5432/udp"`, `{ target, published, … }`. */
export function parsePortEntry(entry: unknown): PortMapping | undefined {
  if (typeof entry === 'number')
    return { hostIp: undefined, published: undefined, target: String(entry), protocol: undefined, extra: {} }
  if (typeof entry === 'string') return parseShortPort(entry)
  if (entry && typeof entry === 'object' && !Array.isArray(entry)) {
    const long = entry as Record<string, unknown>
    if (long.target === undefined) return undefined
    const extra = Object.fromEntries(Object.entries(long).filter(([key]) => !LONG_KEYS.has(key)))
    return {
      hostIp: textOf(long.host_ip),
      published: textOf(long.published),
      target: String(long.target),
      protocol: textOf(long.protocol),
      extra,
    }
  }
  return undefined
}

/** `[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`, with `${…}` and `[…]` kept whole. */
export function parseShortPort(text: string): PortMapping {
  const trimmed = text.trim()
  const slash = splitOutside(trimmed, '/')
  const protocol = slash.length > 1 ? slash[slash.length - 1] : undefined
  const body = slash.length > 1 ? slash.slice(0, -1).join('/') : trimmed
  const parts = splitOutside(body, ':')
  const base = { protocol, extra: {} }
  if (parts.length === 1) return { ...base, hostIp: undefined, published: undefined, target: parts[0] as string }
  if (parts.length === 2) return { ...base, hostIp: undefined, published: parts[0], target: parts[1] as string }
  const hostIp = parts
    .slice(0, -2)
    .join(':')
    .replace(/^\[(.*)\]$/, '$1')
  return { ...base, hostIp, published: parts[parts.length - 2], target: parts[parts.length - 1] as string }
}

/**
 * Writes a mapping back: the short syntax (which Compose v1 and v2 both read for every file
 * format), or the long one when it carries keys the short syntax cannot say.
 */
export function formatPortEntry(port: PortMapping): string | Record<string, unknown> {
  if (Object.keys(port.extra).length > 0) {
    return {
      target: /^\d+$/.test(port.target) ? Number(port.target) : port.target,
      ...(port.published ? { published: port.published } : {}),
      ...(port.hostIp ? { host_ip: port.hostIp } : {}),
      ...(port.protocol ? { protocol: port.protocol } : {}),
      ...port.extra,
    }
  }
  const ip = port.hostIp ? `${port.hostIp.includes(':') ? `[${port.hostIp}]` : port.hostIp}:` : ''
  const host = ip || port.published ? `${ip}${port.published ?? ''}:` : ''
  return `${host}${port.target}${port.protocol ? `/${port.protocol}` : ''}`
}

/** What makes two entries the same binding (v2 keeps one of equal entries; v1 would bind twice). */
export function portKey(port: PortMapping): string {
  return [port.hostIp ?? '', port.published ?? '', port.target, port.protocol ?? 'tcp'].join('|')
}

function textOf(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value)
}
