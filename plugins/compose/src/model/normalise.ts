/** Compose's list-or-map fields, read into one form so override files can be merged and extended. */

export type Mapping = Record<string, unknown>

export function isMapping(value: unknown): value is Mapping {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * `environment`, `labels`, `annotations`, `sysctls`, `build.args`, `extra_hosts`: a list of
 * `KEY=value` (or `KEY` alone, `host:ip` for extra_hosts) or a map -> a map. A key without a value
 * is `null` (for environment: taken from compose's own environment).
 */
export function toKeyValueMap(value: unknown, separator = '='): Record<string, unknown> {
  if (isMapping(value)) return { ...value }
  const map: Record<string, unknown> = {}
  if (!Array.isArray(value)) return map
  for (const item of value) {
    const text = String(item)
    const at = text.indexOf(separator)
    if (at < 0) map[text] = null
    else map[text.slice(0, at)] = text.slice(at + 1)
  }
  return map
}

/** `depends_on` / `networks`: a list of names or a map -> a map (names with `null` settings). */
export function toNameMap(value: unknown): Record<string, unknown> {
  if (isMapping(value)) return { ...value }
  const map: Record<string, unknown> = {}
  if (Array.isArray(value)) for (const name of value) map[String(name)] = null
  return map
}

/** `build: ./dir` -> `{ context: ./dir }`. */
export function toBuildMap(value: unknown): Mapping {
  if (isMapping(value)) return { ...value }
  return typeof value === 'string' ? { context: value } : {}
}

/** `env_file`: a path, a list of paths or of `{ path, required }` -> a list. */
export function toList(value: unknown): unknown[] {
  if (value === undefined || value === null) return []
  return Array.isArray(value) ? [...value] : [value]
}

/** The container path a `volumes` / `devices` entry mounts to: what an override replaces it by. */
export function mountTarget(entry: unknown): string {
  if (isMapping(entry)) return String(entry.target ?? '')
  const text = String(entry)
  const parts = text.split(':')
  // `SRC:DST[:MODE]`, or an anonymous volume `DST`; a Windows drive letter is not expected here.
  return parts.length === 1 ? (parts[0] as string) : (parts[1] as string)
}

/** What a `secrets` / `configs` entry is known by. */
export function grantSource(entry: unknown): string {
  return isMapping(entry) ? String(entry.source ?? '') : String(entry)
}
