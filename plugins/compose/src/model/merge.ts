import {
  grantSource,
  isMapping,
  type Mapping,
  mountTarget,
  toBuildMap,
  toKeyValueMap,
  toList,
  toNameMap,
} from './normalise.js'
import { formatPortEntry, parsePortEntry, portKey } from './ports.js'

/**
 * Compose's override rules (what `-f a.yaml -f b.yaml` does), written once so that berth's one
 * rendered file means what the user's files mean under both Compose v1 and v2. Where the two
 * differ, berth follows v2: equal `ports` entries are kept once (v1 would bind them twice).
 */

const KEY_VALUE_FIELDS: Record<string, string> = {
  environment: '=',
  labels: '=',
  annotations: '=',
  sysctls: '=',
  extra_hosts: ':',
}
const UNIQUE_LIST_FIELDS = new Set([
  'expose',
  'dns',
  'dns_search',
  'dns_opt',
  'tmpfs',
  'external_links',
  'links',
  'cap_add',
  'cap_drop',
  'security_opt',
  'group_add',
  'volumes_from',
  'device_cgroup_rules',
])
const REPLACED_FIELDS = new Set(['command', 'entrypoint', 'profiles'])

/** Merges one service of an override file into the same service of the files before it. */
export function mergeService(base: Mapping, override: Mapping): Mapping {
  const merged: Mapping = { ...base }
  for (const [key, value] of Object.entries(override)) {
    const previous = merged[key]
    if (previous === undefined || previous === null) {
      merged[key] = value
      continue
    }
    if (value === null || value === undefined) continue
    merged[key] = mergeServiceField(key, previous, value)
  }
  return merged
}

function mergeServiceField(key: string, previous: unknown, value: unknown): unknown {
  if (key in KEY_VALUE_FIELDS) {
    const separator = KEY_VALUE_FIELDS[key] as string
    const map = { ...toKeyValueMap(previous, separator), ...toKeyValueMap(value, separator) }
    return key === 'extra_hosts' && Array.isArray(previous) && Array.isArray(value)
      ? Object.entries(map).map(([host, ip]) => (ip === null ? host : `${host}:${ip}`))
      : map
  }
  if (UNIQUE_LIST_FIELDS.has(key)) return unique([...toList(previous), ...toList(value)])
  if (REPLACED_FIELDS.has(key)) return value
  switch (key) {
    case 'ports':
      return mergePorts(toList(previous), toList(value))
    case 'volumes':
    case 'devices':
      return mergeBy(toList(previous), toList(value), mountTarget)
    case 'secrets':
    case 'configs':
      return mergeBy(toList(previous), toList(value), grantSource)
    case 'env_file':
      return unique([...toList(previous), ...toList(value)])
    case 'build': {
      const before = toBuildMap(previous)
      const after = toBuildMap(value)
      const args = before.args !== undefined || after.args !== undefined
      return {
        ...deepMerge(before, after),
        ...(args ? { args: { ...toKeyValueMap(before.args), ...toKeyValueMap(after.args) } } : {}),
      }
    }
    case 'depends_on':
    case 'networks':
      if (Array.isArray(previous) && Array.isArray(value)) return unique([...previous, ...value])
      return deepMerge(toNameMap(previous), toNameMap(value))
    default:
      return isMapping(previous) && isMapping(value) ? deepMerge(previous, value) : value
  }
}

/** Merges a whole override file's top level into the files before it. */
export function mergeTopLevel(base: Mapping, override: Mapping): Mapping {
  const merged: Mapping = { ...base }
  for (const [key, value] of Object.entries(override)) {
    const previous = merged[key]
    if (key === 'services' && isMapping(previous) && isMapping(value)) {
      const services: Mapping = { ...previous }
      for (const [name, service] of Object.entries(value)) {
        const before = services[name]
        services[name] = isMapping(before) && isMapping(service) ? mergeService(before, service) : (service ?? before)
      }
      merged.services = services
    } else if (isMapping(previous) && isMapping(value)) {
      const resources: Mapping = { ...previous }
      for (const [name, settings] of Object.entries(value)) {
        const before = resources[name]
        resources[name] = isMapping(before) && isMapping(settings) ? deepMerge(before, settings) : (settings ?? before)
      }
      merged[key] = resources
    } else if (value !== null && value !== undefined) {
      merged[key] = value
    }
  }
  return merged
}

/** Maps merge key by key (recursively); anything else is replaced by the override. */
export function deepMerge(base: Mapping, override: Mapping): Mapping {
  const merged: Mapping = { ...base }
  for (const [key, value] of Object.entries(override)) {
    const previous = merged[key]
    merged[key] = isMapping(previous) && isMapping(value) ? deepMerge(previous, value) : value
  }
  return merged
}

function mergePorts(previous: unknown[], added: unknown[]): unknown[] {
  const seen = new Set<string>()
  const result: unknown[] = []
  for (const entry of [...previous, ...added]) {
    const parsed = parsePortEntry(entry)
    const key = parsed ? portKey(parsed) : JSON.stringify(entry)
    if (seen.has(key)) continue
    seen.add(key)
    result.push(parsed ? formatPortEntry(parsed) : entry)
  }
  return result
}

function mergeBy(previous: unknown[], added: unknown[], keyOf: (entry: unknown) => string): unknown[] {
  const byKey = new Map<string, unknown>()
  for (const entry of [...previous, ...added]) {
    const key = keyOf(entry)
    byKey.set(key, entry)
  }
  return [...byKey.values()]
}

function unique(items: unknown[]): unknown[] {
  const seen = new Set<string>()
  return items.filter((item) => {
    const key = JSON.stringify(item)
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}
