import {
  ConflictError,
  defineOutput,
  definePlugin,
  defineStep,
  type InstanceRecord,
  type Logger,
  lazySchema,
  type Plugin,
} from '@berth/contract'
import * as z from 'zod'
import { describeHolders, diagnoseLayout, portConflicts } from './conflicts.js'
import { derivedPortsSection } from './derived.js'
import { assertEnvMatchesClaim } from './env-ports.js'
import { layoutProblems, portsConfigSchema, portsSection } from './layout.js'
import { defaultSlotPorts } from './preset.js'
import { listeningPorts } from './probe.js'
import { slotPortSource } from './slot-ports.js'
import { diagnoseSlotHolders } from './strangers.js'

export const PORTS_VERSION = '0.1.0'

/** `output.ports`: the instance's host ports, variable -> port, as ports.check proved them free. */
export const portsOutput = defineOutput(
  'ports',
  lazySchema(() => z.record(z.string(), z.number().int())),
  {
    description: "the instance's host ports (variable -> port): its claim's, proved free",
  },
)

/**
 * `ports.check`: the instance's ports are its claim's (computed once, when the slot was claimed);
 * this step proves them free, refuses a hand-edited `.env.sandbox`, and hands them to the task.
 */
const checkStep = defineStep({
  description: "settles the instance's host ports (its claim's) and fails naming the holder of any that is taken",
  outputs: [portsOutput],
  async run(ctx) {
    const instance = ctx.instance
    const slot = instance?.slot
    if (!instance || slot === null || slot === undefined) return
    const ports = instancePorts(instance, slotPortSource(ctx).slotPorts(slot), slot, ctx.log)
    ctx.ports = ports
    // compose publishes what .env.sandbox says: a hand edit must not slip past this check
    await assertEnvMatchesClaim(ctx, portsSection.read(ctx) ?? {}, ports)
    const holders = await portConflicts(Object.values(ports), instance.id)
    if (holders.length > 0) {
      throw new ConflictError(`slot ${slot}: ${describeHolders(holders, ports)}`, {
        code: 'E_PORT_TAKEN',
        hint: 'stop the process or container holding the port, or pick another slot with --slot N',
        details: { slot, holders },
      })
    }
    ctx.output.ports = ports
  },
})

/**
 * `berth:ports` — maps a slot to host ports and proves they are free before anything binds them.
 * Config section `ports` (env var -> base/stride/count/slot0); the runner fills the KTRDR preset
 * when the section is absent. The registry asks its `slotPorts` service when it claims a slot.
 */
export function portsPlugin(): Plugin {
  return definePlugin({
    name: 'berth:ports',
    version: PORTS_VERSION,
    sections: [portsSection, derivedPortsSection],
    diagnose: async (ctx) => {
      const maxSlot = ctx.services.maxSlot?.() ?? 10
      const layout = portsSection.read(ctx) ?? {}
      return [
        ...diagnoseLayout(layout, maxSlot, slotPortSource(ctx).derivedProblems(maxSlot)),
        ...(await diagnoseSlotHolders(ctx, layout)),
      ]
    },
    services: (ctx) => {
      const source = slotPortSource(ctx)
      // The listening-port table a step's prefetch started reading, for the next probe only.
      let prefetched: Promise<Set<number> | undefined> | undefined
      const takePrefetched = () => {
        const table = prefetched
        prefetched = undefined
        return table
      }
      return {
        slotPorts: (slot: number) => source.slotPorts(slot),
        nameHostPorts: (published) => source.nameHostPorts(published),
        portLayoutProblems: (layout: Record<string, unknown>, maxSlot: number) => {
          const parsed = portsConfigSchema.safeParse(layout)
          if (!parsed.success)
            return parsed.error.issues.map((issue) => `ports.${issue.path.join('.')}: ${issue.message}`)
          return layoutProblems(parsed.data, maxSlot)
        },
        probeSlot: (slot: number) => portConflicts(Object.values(source.slotPorts(slot))),
        probePorts: (ports: number[]) => portConflicts(ports, undefined, takePrefetched()),
        prefetchPortProbe: () => {
          prefetched ??= listeningPorts().catch(() => undefined)
        },
        defaultSlotPorts,
      }
    },
    steps: { check: checkStep },
  })
}

/**
 * The ports an instance runs on: those its registry claim recorded (the layout in force when it
 * was claimed), else its slot's in the current layout. A layout changed since is reported, not
 * applied: the claimed ports are what the registry keeps from every other instance.
 */
function instancePorts(
  instance: InstanceRecord,
  current: Record<string, number>,
  slot: number,
  log: Logger,
): Record<string, number> {
  const claimed = instance.ports
  if (!claimed) return current
  if (!samePorts(claimed, current)) {
    log.warn(
      `the port layout changed since ${instance.id} claimed slot ${slot}; it keeps its claimed ports (${Object.values(claimed).join(', ')}) — 'berth done' it and claim again to use the new layout`,
    )
  }
  return claimed
}

function samePorts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}
