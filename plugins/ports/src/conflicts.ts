import type { Diagnosis, PortHolder } from '@berth/contract'
import { findPortHolders } from './holders.js'
import { layoutProblems, type PortLayout, slotPorts } from './layout.js'
import { busyPorts } from './probe.js'

/** Ports of `slot` held by anything other than the compose project `ownProject`. */
export function slotConflicts(layout: PortLayout, slot: number, ownProject?: string): Promise<PortHolder[]> {
  return portConflicts(Object.values(slotPorts(layout, slot)), ownProject)
}

/** Which of `ports` something holds on the host (ignoring the compose project `ownProject`), with the holder. */
export async function portConflicts(
  ports: number[],
  ownProject?: string,
  table?: Promise<Set<number> | undefined>,
): Promise<PortHolder[]> {
  const busy = await busyPorts(ports, undefined, table)
  if (busy.length === 0) return []
  const holders = await findPortHolders(busy)
  return holders.filter((holder) => ownProject === undefined || holder.project !== ownProject)
}

export function describeHolders(holders: PortHolder[], ports: Record<string, number>): string {
  const names = new Map(Object.entries(ports).map(([name, port]) => [port, name]))
  return holders.map((h) => `${names.get(h.port) ?? 'port'} ${h.port} held by ${h.description}`).join('; ')
}

/**
 * `berth doctor`'s view of the layout: two slots of 0..maxSlot sharing a port would make two
 * instances collide, which no single `ports.check` can see while one of them is down.
 */
export function diagnoseLayout(layout: PortLayout, maxSlot: number, extraProblems: string[] = []): Diagnosis[] {
  const problems = [...layoutProblems(layout, maxSlot), ...extraProblems]
  if (problems.length === 0) {
    const count = Object.keys(slotPorts(layout, 0)).length
    return [
      { check: 'port layout', status: 'ok', detail: `${count} port(s) per slot, slots 0..${maxSlot} never overlap` },
    ]
  }
  return problems.map((detail) => ({
    check: 'port layout',
    status: 'fail',
    detail,
    hint: `change base/stride in the ports section so slots 0..${maxSlot} never share a port`,
    exitCode: 1,
  }))
}
