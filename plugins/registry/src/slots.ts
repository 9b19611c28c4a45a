import type { PortHolder } from '@berth/contract'
import type { SlotView } from './outputs.js'
import { blockingClaims } from './overlap.js'
import type { SlotsConfig, StoredInstance } from './schema.js'

export interface SlotTableInput {
  /** Every live claim on the machine (all projects). */
  instances: readonly StoredInstance[]
  /** This project's claims. */
  mine: readonly StoredInstance[]
  slots: SlotsConfig
  slotPorts: (slot: number) => Record<string, number>
  /** Host holders of ports; the free slots' ports are probed in one call. */
  probePorts?: ((ports: number[]) => Promise<PortHolder[]>) | undefined
}

/** Every slot 0..max as this project would see it when claiming: its own, blocked, held or free. */
export async function slotTable(input: SlotTableInput): Promise<SlotView[]> {
  const { slots } = input
  const rows: SlotView[] = []
  for (let slot = 0; slot <= slots.max; slot++) {
    const role = slots.reserved.includes(slot) ? 'reserved' : slots.pool.includes(slot) ? 'pool' : 'manual'
    const holder = input.mine.find((r) => r.slot === slot)
    if (holder) {
      rows.push({
        slot,
        role,
        state: 'claimed',
        instance: holder.id,
        path: holder.path,
        ports: holder.ports,
        blockedBy: [],
        holders: [],
      })
      continue
    }
    const ports = input.slotPorts(slot)
    const blockedBy = blockingClaims(input.instances, ports)
    rows.push({
      slot,
      role,
      state: blockedBy.length > 0 ? 'blocked' : 'free',
      instance: null,
      path: null,
      ports,
      blockedBy,
      holders: [],
    })
  }
  const open = rows.filter((row) => row.state === 'free')
  const wanted = [...new Set(open.flatMap((row) => Object.values(row.ports)))]
  if (wanted.length > 0 && input.probePorts) {
    const byPort = new Map((await input.probePorts(wanted)).map((holder) => [holder.port, holder]))
    for (const row of open) {
      row.holders = Object.values(row.ports).flatMap((port) => {
        const holder = byPort.get(port)
        return holder ? [holder] : []
      })
      if (row.holders.length > 0) row.state = 'held'
    }
  }
  return rows
}
