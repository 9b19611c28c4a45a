import { defineOutput, instanceRecordSchema, lazySchema, portHolderSchema, table } from '@berth/contract'
import * as z from 'zod'

/** A claim released because its folder is gone and the berth process that made it is dead. */
export const staleReleaseSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    slot: z.number().int().nullable(),
    path: z.string(),
    reason: z.string(),
  }),
)
export type StaleRelease = z.infer<typeof staleReleaseSchema>

/** A claim (of any project) that holds some of the ports a slot would need. */
export const blockingClaimSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    project: z.string(),
    kind: instanceRecordSchema.shape.kind,
    slot: z.number().int().nullable(),
    path: z.string(),
    /** The ports both want, in the order of the slot's layout. */
    ports: z.array(z.number().int()),
  }),
)
export type BlockingClaim = z.infer<typeof blockingClaimSchema>

/** A pool slot a claim stepped over, and why. */
export const skippedSlotSchema = lazySchema(() =>
  z.object({
    slot: z.number().int(),
    /** Live claims of other instances (any project) holding some of the slot's ports. */
    claims: z.array(blockingClaimSchema),
    /** Processes or containers holding some of the slot's ports on the host. */
    holders: z.array(portHolderSchema),
  }),
)
export type SkippedSlot = z.infer<typeof skippedSlotSchema>

/** What the upgrade of one older registry did, claim by claim. */
export const registryUpgradeSchema = lazySchema(() =>
  z.object({
    from: z.number().int(),
    to: z.number().int(),
    /** Claims whose ports were read from their `.env.sandbox`. */
    read: z.array(z.string()),
    /** Claims whose ports could not be read: they hold their slot's ports in the default layout. */
    assumed: z.array(z.object({ id: z.string(), slot: z.number().int(), reason: z.string() })),
  }),
)
export type RegistryUpgrade = z.infer<typeof registryUpgradeSchema>

/** One slot of `berth sandbox slots`. */
export const slotViewSchema = lazySchema(() =>
  z.object({
    slot: z.number().int(),
    role: z.enum(['reserved', 'pool', 'manual']),
    /**
     * `claimed`: an instance of this project holds it; `blocked`: some of its ports are claimed by an
     * instance of another project (or by another slot of this one); `held`: something on the host
     * holds some of its ports; `free`: a claim could take it now.
     */
    state: z.enum(['free', 'claimed', 'blocked', 'held']),
    instance: z.string().nullable(),
    path: z.string().nullable(),
    /** The claim's recorded ports when claimed, else the slot's ports in the current layout. */
    ports: z.record(z.string(), z.number().int()),
    /** Claims of other instances (any project) holding some of its ports. */
    blockedBy: z.array(blockingClaimSchema),
    /** Host processes or containers holding some of its ports (free slots only). */
    holders: z.array(portHolderSchema),
  }),
)
export type SlotView = z.infer<typeof slotViewSchema>

export const releasedStaleOutput = defineOutput(
  'releasedStale',
  lazySchema(() => z.array(staleReleaseSchema)),
  {
    description: 'stale claims the claim released on the way (folder gone, owner dead)',
  },
)

export const skippedSlotsOutput = defineOutput(
  'skippedSlots',
  lazySchema(() => z.array(skippedSlotSchema)),
  {
    description: 'pool slots the claim stepped over, with the claims and host holders in the way',
  },
)

export const registryUpgradeOutput = defineOutput('registryUpgrade', registryUpgradeSchema, {
  description: 'set when this command upgraded an older registry file in place',
})

/** `output.released`: the record `registry.release` / `registry.releaseSlot` dropped. */
export const releasedOutput = defineOutput(
  'released',
  lazySchema(() => z.object({ id: z.string(), slot: z.number().int().nullable() }).passthrough()),
  {
    description: 'the claim released: {id, slot} (done, destroy), the whole record (sandbox release)',
    render: (released, view) =>
      view.task === 'sandbox.release' ? [`released slot ${released.slot} (${released.id})`] : [],
  },
)

/** `output.instances` of `registry.list`: this project's registered instances. */
export const instancesOutput = defineOutput(
  'instances',
  lazySchema(() => z.array(instanceRecordSchema)),
  {
    description: "this project's registered instances",
  },
)

/** Who is in the way of a slot: this project's instance, another project's claim, or a host process. */
function slotUser(slot: SlotView): string {
  if (slot.instance) return slot.instance
  if (slot.blockedBy.length) {
    return slot.blockedBy
      .map(
        (c) =>
          `${c.id} (project ${c.project}; ${c.ports.length > 2 ? `${c.ports.length} ports` : `ports ${c.ports.join(',')}`})`,
      )
      .join('; ')
  }
  if (slot.holders.length) return slot.holders.map((h) => `${h.port}: ${h.description}`).join('; ')
  return '-'
}

export const slotsOutput = defineOutput(
  'slots',
  lazySchema(() => z.array(slotViewSchema)),
  {
    description: 'every slot 0..max: role (reserved/pool/manual), state, ports, and who holds or blocks it',
    render: (slots) =>
      table([
        ['SLOT', 'ROLE', 'STATE', 'PORTS', 'INSTANCE / BLOCKED BY'],
        ...slots.map((s) => [
          String(s.slot),
          s.role,
          s.state,
          Object.values(s.ports).slice(0, 4).join(',') + (Object.keys(s.ports).length > 4 ? ',…' : ''),
          slotUser(s),
        ]),
      ]),
  },
)
