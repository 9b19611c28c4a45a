import { resolve, sep } from 'node:path'
import { UsageError } from '@berth/contract'
import type { StoredInstance } from './schema.js'

const KINDS = ['impl', 'spec', 'sandbox', 'local-prod'] as const

/**
 * Finds the instance a user means by `name`: the exact id, then `<project>-<kind>-<name>`, then a
 * unique prefix of an id or of a feature name. Ambiguity is a usage error listing the candidates.
 */
export function resolveByName(instances: StoredInstance[], name: string, project: string): StoredInstance {
  const exact = instances.find((r) => r.id === name)
  if (exact) return exact
  const expanded = instances.filter(
    (r) => r.project === project && KINDS.some((k) => r.id === `${project}-${k}-${name}`),
  )
  if (expanded.length === 1) return expanded[0]!
  const feature = (r: StoredInstance) =>
    r.id.replace(new RegExp(`^${escapeRegExp(r.project)}-(${KINDS.join('|')})-`), '')
  const prefixed = (expanded.length > 1 ? expanded : instances).filter(
    (r) => r.id.startsWith(name) || feature(r).startsWith(name),
  )
  if (prefixed.length === 1) return prefixed[0]!
  if (prefixed.length > 1) {
    throw new UsageError(`"${name}" matches ${prefixed.length} instances: ${prefixed.map((r) => r.id).join(', ')}`, {
      code: 'E_AMBIGUOUS',
      hint: 'type more of the name, or the full instance id',
      details: { candidates: prefixed.map((r) => r.id) },
    })
  }
  const known = instances.filter((r) => r.project === project).map((r) => r.id)
  throw new UsageError(`no registered instance named "${name}"`, {
    code: 'E_NOT_FOUND',
    hint:
      known.length > 0
        ? `registered: ${known.join(', ')}`
        : "nothing is registered; create one with 'berth impl <feature>'",
  })
}

/** The instance whose folder contains `cwd` (deepest wins), found from the registry's paths. */
export function resolveByCwd(instances: StoredInstance[], cwd: string): StoredInstance | undefined {
  const here = resolve(cwd)
  return instances
    .filter((r) => here === r.path || here.startsWith(r.path + sep))
    .sort((a, b) => b.path.length - a.path.length)[0]
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
