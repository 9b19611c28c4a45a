import type { Diagnosis, TaskContext } from '@berth/contract'
import { describeHolders, portConflicts } from './conflicts.js'
import { type PortLayout, slotPorts } from './layout.js'

/**
 * `berth doctor`: for each registered instance with a slot, the ports of that slot held by
 * something other than the instance's own compose project (a stray process, another project's
 * container). Such an instance cannot start until the holder goes. Changes nothing.
 */
export async function diagnoseSlotHolders(ctx: TaskContext, layout: PortLayout): Promise<Diagnosis[]> {
  const instances = ((await ctx.services.listInstances?.()) ?? []).filter((i) => i.slot !== null)
  const found: Diagnosis[] = []
  for (const instance of instances) {
    const slot = instance.slot as number
    const ports = instance.ports ?? slotPorts(layout, slot)
    const holders = await portConflicts(Object.values(ports), instance.id)
    if (holders.length === 0) continue
    found.push({
      check: 'slot ports',
      status: 'warn',
      detail: `slot ${slot} (${instance.id}): ${describeHolders(holders, ports)}`,
      hint: `stop what holds them, or move ${instance.id} to another slot ('berth done ${instance.id}', then 'berth impl … --slot N')`,
    })
  }
  if (instances.length > 0 && found.length === 0) {
    found.push({
      check: 'slot ports',
      status: 'ok',
      detail: `no port of the ${instances.length} registered slot(s) is held by anything else`,
    })
  }
  return found
}
