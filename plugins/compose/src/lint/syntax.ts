/** Compose short syntaxes the linter needs to read, with `${VAR:-default}` kept intact. */

/** Splits on `separator` outside `${…}` and `[…]` (an IPv6 host IP). */
export function splitOutside(text: string, separator: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char === '$' && text[i + 1] === '{') {
      depth++
      current += '${'
      i++
      continue
    }
    if (char === '[') depth++
    if ((char === '}' || char === ']') && depth > 0) depth--
    if (char === separator && depth === 0) {
      parts.push(current)
      current = ''
      continue
    }
    current += char
  }
  parts.push(current)
  return parts
}

/** True when compose will substitute a variable here (`$VAR`, `${VAR}`, `${VAR:-x}`; not `$$`). */
export function hasVariable(text: string): boolean {
  return /(^|[^$])\$\{?[A-Za-z_]/.test(text)
}

export interface PortSpec {
  /** Undefined when the short syntax names no host IP. */
  hostIp: string | undefined
  /** Undefined or '' when compose picks a random host port. */
  host: string | undefined
  container: string
}

/** Reads `[HOST_IP:][HOST:]CONTAINER[/PROTOCOL]`. */
export function parsePortSpec(text: string): PortSpec {
  const parts = splitOutside(text.trim(), ':')
  if (parts.length === 1) return { hostIp: undefined, host: undefined, container: parts[0] as string }
  if (parts.length === 2) return { hostIp: undefined, host: parts[0], container: parts[1] as string }
  const hostIp = parts
    .slice(0, -2)
    .join(':')
    .replace(/^\[(.*)\]$/, '$1')
  return { hostIp, host: parts[parts.length - 2], container: parts[parts.length - 1] as string }
}

/** Host IPs that publish on every interface. */
export function isAllInterfaces(hostIp: string | undefined): boolean {
  return hostIp === undefined || hostIp === '' || hostIp === '0.0.0.0' || hostIp === '::'
}

/** The source of a short-syntax volume entry (`SOURCE:TARGET[:MODE]`), or undefined for an anonymous volume. */
export function volumeSource(text: string): string | undefined {
  const parts = splitOutside(text.trim(), ':')
  return parts.length >= 2 ? parts[0] : undefined
}
