import { defineSection, lazySchema, type PublishedHostPorts, UsageError } from '@berth/contract'
import * as z from 'zod'
import { type PortLayout, slotPorts } from './layout.js'

/**
 * `derivedPorts`: where ports come from for fixed host ports the compose files publish that the
 * layout does not name (`"6379:6379"` with no layout variable whose slot-0 port is 6379). Slot N's
 * block is `base + N*stride … base + N*stride + stride - 1`; each such port gets the next free one,
 * under a derived variable (`CACHE_6379_PORT`) written to `.env.sandbox` with the others.
 */
export const derivedPortsSchema = lazySchema(() =>
  z
    .strictObject({
      /** The first port of slot 0's block. */
      base: z.number().int().min(1).max(65535).default(30000),
      /** Ports per slot's block, and so the most unnamed published ports a stack may have. */
      stride: z.number().int().min(1).max(1000).default(20),
    })
    .prefault({}),
)

export type DerivedPorts = z.output<typeof derivedPortsSchema>

export const derivedPortsSection = defineSection('derivedPorts', derivedPortsSchema)

/** `db` + 5432 -> `DB_5432_PORT`; `my-api.v2` + 80 -> `MY_API_V2_80_PORT`. */
export function derivedPortName(service: string, port: number): string {
  const stem = service
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return `${/^[A-Z_]/.test(stem) ? stem : `_${stem}`}_${port}_PORT`
}

/**
 * The variable carrying each port of each entry in every instance: the layout's variable whose
 * slot-0 port it is (`"5432:5432"` -> `DB_PORT` when `DB_PORT.base` is 5432, so a layout written
 * from today's ports names them all), else a derived one. A range is named by the layout only when
 * its variables stay consecutive in every slot (a `count` entry); otherwise it is derived whole.
 */
export function nameHostPorts(layout: PortLayout, published: readonly PublishedHostPorts[]): string[][] {
  const home = new Map<number, string>()
  for (const [name, port] of Object.entries(slotPorts(layout, 0))) if (!home.has(port)) home.set(port, name)
  return published.map((entry) => {
    const named = entry.ports.map((port) => home.get(port))
    if (named.every((name) => name !== undefined) && staysConsecutive(layout, named as string[])) {
      return named as string[]
    }
    return entry.ports.map((port) => derivedPortName(entry.service, port))
  })
}

/**
 * The derived variables in the order they take their block's ports: by first host port, then
 * service; a range's variables together, so they stay consecutive.
 */
export function derivedVariables(layout: PortLayout, published: readonly PublishedHostPorts[]): string[] {
  const layoutNames = new Set(Object.keys(slotPorts(layout, 0)))
  const names = nameHostPorts(layout, published)
  const groups = published
    .map((entry, index) => ({ entry, names: names[index] as string[] }))
    .filter((group) => group.names.some((name) => !layoutNames.has(name)))
    .sort(
      (a, b) =>
        (a.entry.ports[0] as number) - (b.entry.ports[0] as number) || a.entry.service.localeCompare(b.entry.service),
    )
  const ordered: string[] = []
  for (const group of groups) for (const name of group.names) if (!ordered.includes(name)) ordered.push(name)
  return ordered
}

/** The derived variables' ports in `slot`'s block. Throws `UsageError` when they do not fit in it. */
export function derivedSlotPorts(
  layout: PortLayout,
  block: DerivedPorts,
  published: readonly PublishedHostPorts[],
  slot: number,
): Record<string, number> {
  const names = derivedVariables(layout, published)
  if (names.length > block.stride) {
    throw new UsageError(
      `the compose files publish ${names.length} fixed host ports the ports layout does not name, more than derivedPorts.stride (${block.stride}) ports per slot`,
      {
        code: 'E_DERIVED_PORTS',
        hint: `name some of them in the ports section (a variable whose base is the port, e.g. ${names[0]}: { base: … }), or raise derivedPorts.stride`,
        details: { variables: names },
      },
    )
  }
  const first = block.base + slot * block.stride
  return Object.fromEntries(names.map((name, index) => [name, first + index]))
}

/**
 * What makes derived ports collide over slots `0..maxSlot`: more of them than a block holds, a
 * block past 65535, or a block port that is also a layout port of some slot. Empty when sound.
 */
export function derivedProblems(
  layout: PortLayout,
  block: DerivedPorts,
  published: readonly PublishedHostPorts[],
  maxSlot: number,
): string[] {
  const names = derivedVariables(layout, published)
  if (names.length === 0) return []
  if (names.length > block.stride) {
    return [
      `derivedPorts.stride: ${names.length} unnamed published ports (${names.join(', ')}) do not fit in ${block.stride} ports per slot`,
    ]
  }
  const problems: string[] = []
  const last = block.base + maxSlot * block.stride + names.length - 1
  if (last > 65535) problems.push(`derivedPorts.base: slot ${maxSlot}'s block reaches ${last}, past 65535`)
  const layoutOwner = new Map<number, string>()
  for (let slot = 0; slot <= maxSlot; slot++) {
    for (const [name, port] of Object.entries(slotPorts(layout, slot))) layoutOwner.set(port, `${name} of slot ${slot}`)
  }
  for (let slot = 0; slot <= maxSlot; slot++) {
    for (let index = 0; index < names.length; index++) {
      const port = block.base + slot * block.stride + index
      const owner = layoutOwner.get(port)
      if (owner)
        problems.push(`derivedPorts: slot ${slot} gives ${names[index]} port ${port}, already used by ${owner}`)
    }
  }
  return problems
}

function staysConsecutive(layout: PortLayout, names: string[]): boolean {
  if (names.length <= 1) return true
  for (const slot of [0, 1, 2]) {
    const ports = slotPorts(layout, slot)
    const first = ports[names[0] as string] as number
    if (!names.every((name, index) => ports[name] === first + index)) return false
  }
  return true
}
