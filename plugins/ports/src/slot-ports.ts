import { type PublishedHostPorts, type TaskContext, UsageError } from '@berth/contract'
import { derivedPortsSection, derivedProblems, derivedSlotPorts, nameHostPorts } from './derived.js'
import { type PortLayout, portsSection, slotPorts } from './layout.js'

/**
 * The one place a slot's host ports are computed for a task: the layout's variables, then one
 * derived variable for each fixed host port the compose files publish that the layout does not
 * name (from the `derivedPorts` block). The registry records this set with each claim; the env
 * step writes it to `.env.sandbox`; rendering maps each published port to its variable.
 */
export interface SlotPortSource {
  layout: PortLayout
  /** The slot's variables -> ports. Throws `UsageError` when derived ports would collide. */
  slotPorts(slot: number): Record<string, number>
  /** The variables carrying `published`'s ports (see `nameHostPorts`). */
  nameHostPorts(published: PublishedHostPorts[]): string[][]
  /** The fixed host ports the compose files publish (read once per task). */
  published(): PublishedHostPorts[]
  /** What makes this layout or its derived ports collide over slots 0..maxSlot (doctor). */
  derivedProblems(maxSlot: number): string[]
}

export function slotPortSource(ctx: TaskContext): SlotPortSource {
  // Read on first use: a command that never asks for a slot's ports (url, list) validates neither
  // section (plugins' services are made for every command that loads them).
  let layoutRead: PortLayout | undefined
  const layoutOf = (): PortLayout => {
    layoutRead ??= portsSection.read(ctx) ?? {}
    return layoutRead
  }
  const blockOf = () => derivedPortsSection.read(ctx)
  let published: PublishedHostPorts[] | undefined
  let checked = false
  const readPublished = (): PublishedHostPorts[] => {
    if (published) return published
    try {
      published = ctx.services.publishedHostPorts?.(Object.keys(slotPorts(layoutOf(), 0))) ?? []
    } catch (error) {
      // An unreadable compose file is reported (exit 2) by the step that renders it.
      ctx.log.debug(`ports: could not read the published ports (${(error as Error).message.split('\n')[0]})`)
      published = []
    }
    return published
  }
  return {
    get layout() {
      return layoutOf()
    },
    published: readPublished,
    nameHostPorts: (entries) => nameHostPorts(layoutOf(), entries),
    derivedProblems: (max) => derivedProblems(layoutOf(), blockOf(), readPublished(), max),
    slotPorts(slot) {
      const layout = layoutOf()
      const derived = derivedSlotPorts(layout, blockOf(), readPublished(), slot)
      const own = slotPorts(layout, slot)
      // Two variables of one slot on one port would give one port to two services of the same
      // instance: refused before that slot is claimed (slot 0 from registry.claim's validate,
      // before anything changes). Two slots sharing a port is doctor's finding: the registry
      // never claims a slot whose ports another claim holds.
      const clashes = slotClashes(own)
      if (clashes.length > 0) {
        throw new UsageError(`the port layout gives one port to two variables of slot ${slot}:`, {
          code: 'E_PORT_LAYOUT',
          hint: 'give each variable its own base in the ports section (one variable serves a port published for both tcp and udp)',
          details: { problems: clashes },
        })
      }
      if (!checked && Object.keys(derived).length > 0) {
        const problems = derivedProblems(layout, blockOf(), readPublished(), ctx.services.maxSlot?.() ?? 10)
        if (problems.length > 0) {
          throw new UsageError('derived ports would collide:', {
            code: 'E_DERIVED_PORTS',
            hint: 'move the derivedPorts block (derivedPorts.base / stride) away from the ports layout, or name those ports in the ports section',
            details: { problems },
          })
        }
      }
      checked = true
      return { ...own, ...derived }
    },
  }
}

/** `ports.B: maps to 9000, as A does` for each port two variables of one slot share. */
function slotClashes(ports: Record<string, number>): string[] {
  const owner = new Map<number, string>()
  const clashes: string[] = []
  for (const [name, port] of Object.entries(ports)) {
    const previous = owner.get(port)
    if (previous) clashes.push(`ports.${name}: maps to ${port}, as ${previous} does`)
    else owner.set(port, name)
  }
  return clashes
}
