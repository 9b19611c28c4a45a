import { type PublishedHostPorts, type TaskContext, UsageError } from '@berth/contract'
import { derivedPortsSection, derivedProblems, derivedSlotPorts, nameHostPorts } from './derived.js'
import { layoutProblems, type PortLayout, portsSection, slotPorts } from './layout.js'

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
      if (!checked) {
        const maxSlot = ctx.services.maxSlot?.() ?? 10
        // Two variables (or two slots) on one port would hand one port to two services or two
        // instances: refused before any port is claimed, as doctor reports it.
        const clashes = layoutProblems(layout, maxSlot)
        if (clashes.length > 0) {
          throw new UsageError(
            `the port layout is not sound (${clashes.length} problem${clashes.length === 1 ? '' : 's'}):`,
            {
              code: 'E_PORT_LAYOUT',
              hint: `change base/stride in the ports section so no two variables of slots 0..${maxSlot} share a port (one variable can serve a port published for tcp and udp)`,
              details: { problems: clashes },
            },
          )
        }
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
      return { ...slotPorts(layout, slot), ...derived }
    },
  }
}
