import { realpathSync } from 'node:fs'
import { resolve, sep } from 'node:path'
import { instanceIdFor, parseFeatureName, UsageError } from '@berth/contract'
import type { StoredInstance } from './schema.js'

const KINDS = ['impl', 'spec', 'sandbox', 'local-prod'] as const

/**
 * Finds the instance a user means by `name`: the exact id, then the name as it was typed when the
 * instance was made (`genome/M1`), then `<project>-<kind>-<slug>` where the slug is what berth
 * makes of a typed name (`genome/M1` and `Genome-M1` are both `genome-m1`), then a unique prefix
 * of an id or of a feature name. Ambiguity is a usage error listing the candidates.
 */
export function resolveByName(instances: StoredInstance[], name: string, project: string): StoredInstance {
  const exact = instances.find((r) => r.id === name)
  if (exact) return exact
  const typed = instances.filter((r) => r.name === name)
  if (typed.length === 1) return typed[0]!
  const key = slugOf(name)
  const expanded = instances.filter(
    (r) => r.project === project && KINDS.some((k) => r.id === instanceIdFor(`${project}-${k}-${key}`)),
  )
  if (expanded.length === 1) return expanded[0]!
  const feature = (r: StoredInstance) =>
    r.id.replace(new RegExp(`^${escapeRegExp(r.project)}-(${KINDS.join('|')})-`), '')
  const prefixed = (expanded.length > 1 ? expanded : instances).filter(
    (r) => r.id.startsWith(key) || feature(r).startsWith(key) || feature(r).startsWith(instanceIdFor(key)),
  )
  if (prefixed.length === 1) return prefixed[0]!
  if (prefixed.length > 1) {
    throw new UsageError(`"${name}" matches ${prefixed.length} instances: ${prefixed.map(shown).join(', ')}`, {
      code: 'E_AMBIGUOUS',
      hint: 'type more of the name, or the full instance id',
      details: { candidates: prefixed.map((r) => r.id) },
    })
  }
  const known = instances.filter((r) => r.project === project).map(shown)
  throw new UsageError(`no registered instance named "${name}"`, {
    code: 'E_NOT_FOUND',
    hint:
      known.length > 0
        ? `registered: ${known.join(', ')}`
        : "nothing is registered; create one with 'berth impl <feature>'",
  })
}

/** `acme-impl-genome-m1 (genome/M1)`: the id, and the typed name when it differs. */
function shown(record: StoredInstance): string {
  return record.name && record.name !== record.id && !record.id.endsWith(`-${record.name}`)
    ? `${record.id} (${record.name})`
    : record.id
}

/** What berth makes of a typed name; anything it would refuse is looked up lower-cased as it is. */
function slugOf(name: string): string {
  try {
    return parseFeatureName(name).slug
  } catch {
    return name.toLowerCase()
  }
}

/** The instance whose folder contains `cwd` (deepest wins), found from the registry's paths. */
export function resolveByCwd(instances: StoredInstance[], cwd: string): StoredInstance | undefined {
  // The folder as the registry records paths (real, no symlinks), and as typed.
  const places = [resolve(cwd)]
  try {
    places.push(realpathSync(cwd))
  } catch {
    // a folder that is gone matches by its name only
  }
  return instances
    .filter((r) => places.some((here) => here === r.path || here.startsWith(r.path + sep)))
    .sort((a, b) => b.path.length - a.path.length)[0]
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
