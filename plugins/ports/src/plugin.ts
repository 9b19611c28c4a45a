import {
  ConflictError,
  type Diagnosis,
  definePlugin,
  type Plugin,
  type PortHolder,
  readSection,
  type TaskContext,
} from '@berth/contract'
import { derivedPortsSection } from './derived.js'
import { assertEnvMatchesClaim } from './env-ports.js'
import { findPortHolders } from './holders.js'
import { layoutProblems, type PortLayout, portsConfigSchema, slotPorts } from './layout.js'
import { defaultSlotPorts } from './preset.js'
import { busyPorts } from './probe.js'
import { slotPortSource } from './slot-ports.js'
import { diagnoseSlotHolders } from './strangers.js'

export const PORTS_VERSION = '0.1.0'

/** Ports of `slot` held by anything other than the compose project `ownProject`. */
export function slotConflicts(layout: PortLayout, slot: number, ownProject?: string): Promise<PortHolder[]> {
  return portConflicts(Object.values(slotPorts(layout, slot)), ownProject)
}

/** Which of `ports` something holds on the host (ignoring the compose project `ownProject`), with the holder. */
export async function portConflicts(ports: number[], ownProject?: string): Promise<PortHolder[]> {
  const busy = await busyPorts(ports)
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

/**
 * `berth:ports` — maps a slot to host ports and proves they are free before anything binds them.
 * Config section `ports` (env var -> base/stride/count/slot0); the runner fills the KTRDR preset
 * when the section is absent.
 */
export function portsPlugin(): Plugin {
  const layoutOf = (ctx: TaskContext): PortLayout => readSection(ctx, 'ports', portsConfigSchema) ?? {}
  return definePlugin({
    name: 'berth:ports',
    version: PORTS_VERSION,
    config: { ports: portsConfigSchema.optional() },
    sections: [derivedPortsSection],
    // The highest slot comes from the registry's `slots` section when it is there.
    diagnose: async (ctx) => {
      const maxSlot = (ctx.config.sections.slots as { max?: number } | undefined)?.max ?? 10
      return [
        ...diagnoseLayout(layoutOf(ctx), maxSlot, slotPortSource(ctx).derivedProblems(maxSlot)),
        ...(await diagnoseSlotHolders(ctx, layoutOf(ctx))),
      ]
    },
    services: (ctx) => {
      const source = slotPortSource(ctx)
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
        probePorts: (ports: number[]) => portConflicts(ports),
        defaultSlotPorts,
      }
    },
    steps: {
      check: {
        description: "computes the instance's host ports and fails naming the holder of any that is taken",
        async run(ctx) {
          const slot = ctx.instance?.slot
          if (slot === null || slot === undefined) return
          const ports = instancePorts(ctx, slotPortSource(ctx).slotPorts(slot), slot)
          ctx.ports = ports
          // compose publishes what .env.sandbox says: a hand edit must not slip past this check
          await assertEnvMatchesClaim(ctx, layoutOf(ctx), ports)
          const holders = await portConflicts(Object.values(ports), ctx.instance?.id)
          if (holders.length > 0) {
            throw new ConflictError(`slot ${slot}: ${describeHolders(holders, ports)}`, {
              code: 'E_PORT_TAKEN',
              hint: 'stop the process or container holding the port, or pick another slot with --slot N',
              details: { slot, holders },
            })
          }
          ctx.output.ports = ports
        },
      },
    },
  })
}

/**
 * The ports an instance runs on: those its registry claim recorded (the layout in force when it
 * was claimed), else its slot's in the current layout. A layout changed since is reported, not
 * applied: the claimed ports are what the registry keeps from every other instance.
 */
function instancePorts(ctx: TaskContext, current: Record<string, number>, slot: number): Record<string, number> {
  const claimed = ctx.instance?.ports
  if (!claimed) return current
  if (!samePorts(claimed, current)) {
    ctx.log.warn(
      `the port layout changed since ${ctx.instance?.id} claimed slot ${slot}; it keeps its claimed ports (${Object.values(claimed).join(', ')}) — 'berth done' it and claim again to use the new layout`,
    )
  }
  return claimed
}

function samePorts(a: Record<string, number>, b: Record<string, number>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key])
}
