/** Where a check points, once every `${VAR}` is replaced. */
export interface TcpTarget {
  host: string
  port: number
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string }

const LOOPBACK_HINT = 'must be a loopback host (127.0.0.1, localhost or [::1])'

/** Only loopback is allowed: the gate checks ports this machine publishes, nothing else. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.toLowerCase().replace(/^\[(.*)\]$/, '$1')
  if (bare === 'localhost' || bare === '::1') return true
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(bare)
  return octets?.slice(1).every((octet) => Number(octet) <= 255) ?? false
}

/** `5433`, `"5433"`, `"127.0.0.1:5433"`, `"localhost:5433"`, `"[::1]:5433"`. A bare port means 127.0.0.1. */
export function parseTcpTarget(value: string | number): Parsed<TcpTarget> {
  const text = String(value).trim()
  if (/^\d+$/.test(text)) return withPort('127.0.0.1', text)
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d+)$/.exec(text)
  if (!match) return { ok: false, message: `"${text}" is not a port or host:port (write IPv6 hosts in brackets)` }
  const host = match[1]!
  if (!isLoopbackHost(host)) return { ok: false, message: `host "${host}" ${LOOPBACK_HINT}` }
  return withPort(host, match[2]!)
}

/** An http(s) URL to a loopback host, returned normalised. */
export function parseHttpTarget(value: string): Parsed<string> {
  let url: URL
  try {
    url = new URL(value.trim())
  } catch {
    return { ok: false, message: `"${value}" is not a valid URL` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, message: `"${value}" must use http or https, not ${url.protocol.replace(/:$/, '')}` }
  }
  if (!isLoopbackHost(url.hostname)) return { ok: false, message: `host "${url.hostname}" ${LOOPBACK_HINT}` }
  return { ok: true, value: url.href }
}

export function formatTcpTarget(target: TcpTarget): string {
  const host = target.host.includes(':') && !target.host.startsWith('[') ? `[${target.host}]` : target.host
  return `${host}:${target.port}`
}

function withPort(host: string, portText: string): Parsed<TcpTarget> {
  const port = Number(portText)
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return { ok: false, message: `port ${portText} is out of range (1-65535)` }
  }
  return { ok: true, value: { host, port } }
}
