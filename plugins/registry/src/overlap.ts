import type { PortHolder } from '@berth/contract'
import type { BlockingClaim } from './outputs.js'
import type { StoredInstance } from './schema.js'

/**
 * The claims (of any project) holding one of `ports`, except `exceptId`'s own. Host ports belong
 * to the machine, so a slot is free only when none of its ports is claimed by anyone.
 */
export function blockingClaims(
  instances: readonly StoredInstance[],
  ports: Record<string, number>,
  exceptId?: string,
): BlockingClaim[] {
  const wanted = [...new Set(Object.values(ports))]
  if (wanted.length === 0) return []
  const found: BlockingClaim[] = []
  for (const record of instances) {
    if (record.id === exceptId) continue
    const held = new Set(Object.values(record.ports))
    const shared = wanted.filter((port) => held.has(port))
    if (shared.length === 0) continue
    found.push({
      id: record.id,
      project: record.project,
      kind: record.kind,
      slot: record.slot,
      path: record.path,
      ports: shared,
    })
  }
  return found
}

/** `ports 8001, 5433 claimed by beta-impl-x (project beta) in /src/beta-impl-x`. */
export function describeClaim(claim: BlockingClaim): string {
  return `${listPorts(claim.ports)} claimed by ${claim.id} (project ${claim.project}) in ${claim.path}`
}

/** `port 8001 held by pid 4711 (python3 -m http.server 8001)`, joined with `, `. */
export function describeHolders(holders: readonly PortHolder[]): string {
  return holders.map((h) => `port ${h.port} held by ${h.description}`).join(', ')
}

/** Why a slot cannot be had: the claims first, then the host's holders. */
export function describeBlocks(claims: readonly BlockingClaim[], holders: readonly PortHolder[]): string {
  return [...claims.map(describeClaim), ...(holders.length > 0 ? [describeHolders(holders)] : [])].join('; ')
}

/** `port 8001` / `ports 8001, 5433` / `ports 8001, 5433, 3001, 16687 and 7 more`. */
export function listPorts(ports: readonly number[]): string {
  if (ports.length === 1) return `port ${ports[0]}`
  const shown = ports.slice(0, 4).join(', ')
  return `ports ${shown}${ports.length > 4 ? ` and ${ports.length - 4} more` : ''}`
}

/** Every pair of live claims sharing a port: only one of each pair can run (e.g. after an upgrade). */
export function overlappingClaims(
  instances: readonly StoredInstance[],
): { a: StoredInstance; b: StoredInstance; ports: number[] }[] {
  const pairs: { a: StoredInstance; b: StoredInstance; ports: number[] }[] = []
  for (const [index, a] of instances.entries()) {
    for (const b of instances.slice(index + 1)) {
      const mine = new Set(Object.values(a.ports))
      const shared = [...new Set(Object.values(b.ports))].filter((port) => mine.has(port)).sort((x, y) => x - y)
      if (shared.length > 0) pairs.push({ a, b, ports: shared })
    }
  }
  return pairs
}
