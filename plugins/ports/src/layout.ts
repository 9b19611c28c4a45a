import { defineSection, lazySchema } from '@berth/contract'
import * as z from 'zod'

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/

export const portSpecSchema = lazySchema(() =>
  z
    .object({
      base: z.number().int().min(1).max(65535),
      stride: z.number().int().min(1).max(1000).default(1),
      count: z.number().int().min(1).max(100).default(1),
      slot0: z.number().int().min(1).max(65535).optional(),
    })
    .strict(),
)

/** `ports` config section: env var -> { base, stride, count, slot0 }. */
export const portsConfigSchema = lazySchema(() =>
  z.record(z.string().regex(ENV_NAME, 'must be an environment variable name like API_PORT'), portSpecSchema),
)

/** The `ports` section: absent means the runner's preset (the KTRDR layout). */
export const portsSection = defineSection(
  'ports',
  lazySchema(() => portsConfigSchema.optional()),
)

export type PortSpec = z.output<typeof portSpecSchema>
export type PortLayout = z.output<typeof portsConfigSchema>

/**
 * Host ports of one slot: `base + slot*stride`; with `count: k` the variables `NAME_1..NAME_k`
 * take consecutive ports from there; `slot0` replaces slot 0's first port.
 */
export function slotPorts(layout: PortLayout, slot: number): Record<string, number> {
  const ports: Record<string, number> = {}
  for (const [name, spec] of Object.entries(layout)) {
    const first = slot === 0 && spec.slot0 !== undefined ? spec.slot0 : spec.base + slot * spec.stride
    if (spec.count === 1) ports[name] = first
    else for (let i = 0; i < spec.count; i++) ports[`${name}_${i + 1}`] = first + i
  }
  return ports
}

/**
 * Problems that make a layout unusable over slots `0..maxSlot`: a port outside 1..65535, two
 * variables (of one slot or of two slots) sharing a port, or two entries generating the same
 * variable name. Empty when the layout is sound.
 */
export function layoutProblems(layout: PortLayout, maxSlot: number): string[] {
  const problems: string[] = []
  // `W: {count: 2}` generates W_1 and W_2; a second entry named `W_1` would silently overwrite one.
  const generatedBy = new Map<string, string>()
  for (const [name, spec] of Object.entries(layout)) {
    for (const variable of Object.keys(slotPorts({ [name]: spec }, 0))) {
      const previous = generatedBy.get(variable)
      if (previous) problems.push(`ports.${name}: defines ${variable}, which ports.${previous} already defines`)
      else generatedBy.set(variable, name)
    }
  }
  const owner = new Map<number, string>()
  for (let slot = 0; slot <= maxSlot; slot++) {
    for (const [name, port] of Object.entries(slotPorts(layout, slot))) {
      if (port < 1 || port > 65535) {
        problems.push(`ports.${name}: slot ${slot} maps to ${port}, outside 1..65535`)
        continue
      }
      const previous = owner.get(port)
      if (previous) problems.push(`ports.${name}: slot ${slot} maps to ${port}, already used by ${previous}`)
      else owner.set(port, `${name} of slot ${slot}`)
    }
  }
  return problems
}
