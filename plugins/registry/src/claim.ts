import { existsSync } from 'node:fs'
import { ConflictError, type InstanceRecord, type PortHolder, UsageError } from '@berth/contract'
import { ownerAlive, processStartTime } from './lock.js'
import type { Registry, SlotsConfig, StoredInstance } from './schema.js'
import { updateRegistry } from './store.js'

export interface StaleRelease {
  id: string
  slot: number | null
  path: string
  reason: string
}

export interface SkippedSlot {
  slot: number
  holders: PortHolder[]
}

export interface ClaimOptions {
  slots: SlotsConfig
  /** An explicit `--slot N`; otherwise the lowest free pool slot. */
  slot?: number | undefined
  /** Ports of a slot held by something else; a pool slot with holders is skipped. */
  probeSlot?: ((slot: number) => Promise<PortHolder[]>) | undefined
}

export interface ClaimResult {
  record: StoredInstance
  released: StaleRelease[]
  skipped: SkippedSlot[]
}

/**
 * Claims are stale when their folder is gone and the berth process that made them is no longer
 * running (a claim made a moment ago by a live `impl` has no folder yet and is left alone).
 */
export async function releaseStale(registry: Registry): Promise<StaleRelease[]> {
  const released: StaleRelease[] = []
  const kept: StoredInstance[] = []
  for (const record of registry.instances) {
    if (!existsSync(record.path) && !(record.owner && (await ownerAlive(record.owner)))) {
      released.push({ id: record.id, slot: record.slot, path: record.path, reason: 'path gone' })
    } else kept.push(record)
  }
  registry.instances = kept
  return released
}

/**
 * Registers `instance` and gives it a slot (none for spec worktrees, 0 for local-prod) in one
 * locked read-modify-write: the registry is the single allocation authority.
 */
export async function claimSlot(home: string, instance: InstanceRecord, options: ClaimOptions): Promise<ClaimResult> {
  const startTime = await processStartTime(process.pid)
  return updateRegistry(home, async (registry) => {
    const released = await releaseStale(registry)
    const sameId = registry.instances.find((r) => r.id === instance.id)
    if (sameId) {
      throw new ConflictError(
        `instance ${instance.id} is already registered (slot ${sameId.slot ?? '-'}, ${sameId.path})`,
        {
          code: 'E_INSTANCE_EXISTS',
          hint: `use it as it is, or remove it first with 'berth done ${instance.id}'`,
          details: { instance: sameId },
        },
      )
    }
    const samePath = registry.instances.find((r) => r.path === instance.path)
    if (samePath) {
      throw new ConflictError(
        `${instance.path} is already registered as ${samePath.id} (slot ${samePath.slot ?? '-'})`,
        {
          code: 'E_INSTANCE_EXISTS',
          hint: `this folder is already a sandbox; see 'berth sandbox status'`,
          details: { instance: samePath },
        },
      )
    }
    const mine = registry.instances.filter((r) => r.project === instance.project)
    const holderOf = (slot: number) => mine.find((r) => r.slot === slot)
    const skipped: SkippedSlot[] = []
    let slot: number | null = null
    if (instance.kind === 'local-prod') {
      const existing = mine.find((r) => r.kind === 'local-prod') ?? holderOf(0)
      if (existing) {
        throw new ConflictError(`local-prod already exists: ${existing.id} at ${existing.path}`, {
          hint: `there is one local-prod per project; remove it with 'berth local-prod destroy' in ${existing.path}`,
          details: { instance: existing },
        })
      }
      slot = 0
    } else if (instance.kind !== 'spec') {
      slot = await pickSlot(options, holderOf, skipped)
    }
    const record: StoredInstance = {
      ...instance,
      slot,
      owner: { pid: process.pid, ...(startTime ? { startTime } : {}) },
    }
    registry.instances.push(record)
    return { record, released, skipped }
  })
}

async function pickSlot(
  options: ClaimOptions,
  holderOf: (slot: number) => StoredInstance | undefined,
  skipped: SkippedSlot[],
): Promise<number> {
  const { slots } = options
  if (options.slot !== undefined) {
    const slot = options.slot
    if (!Number.isInteger(slot) || slot < 0 || slot > slots.max) {
      throw new UsageError(`--slot ${slot} is outside 1..${slots.max}`, { hint: `pick a slot from 1 to ${slots.max}` })
    }
    if (slots.reserved.includes(slot)) {
      throw new UsageError(`slot ${slot} is reserved${slot === 0 ? ' for local-prod' : ''}`, {
        hint: slot === 0 ? "use 'berth local-prod init' for slot 0" : 'pick another slot',
      })
    }
    const holder = holderOf(slot)
    if (holder) {
      throw new ConflictError(`slot ${slot} is claimed by ${holder.id} (${holder.path})`, {
        code: 'E_SLOT_TAKEN',
        hint: "pick another slot, or free it with 'berth done' / 'berth sandbox release'",
        details: { instance: holder },
      })
    }
    const holders = (await options.probeSlot?.(slot)) ?? []
    if (holders.length > 0) {
      throw new ConflictError(
        `slot ${slot}: ${holders.map((h) => `port ${h.port} held by ${h.description}`).join('; ')}`,
        {
          code: 'E_PORT_TAKEN',
          hint: 'stop whatever holds those ports, or pick another slot',
          details: { slot, holders },
        },
      )
    }
    return slot
  }
  for (const slot of [...slots.pool].sort((a, b) => a - b)) {
    if (holderOf(slot)) continue
    const holders = (await options.probeSlot?.(slot)) ?? []
    if (holders.length > 0) {
      skipped.push({ slot, holders })
      continue
    }
    return slot
  }
  const claimed = slots.pool
    .map((slot) => holderOf(slot))
    .filter((r): r is StoredInstance => r !== undefined)
    .map((r) => `slot ${r.slot}: ${r.id} (${r.path})`)
  const held = skipped.map(
    (s) => `slot ${s.slot}: ${s.holders.map((h) => `port ${h.port} held by ${h.description}`).join(', ')}`,
  )
  throw new ConflictError(`no free slot in the pool [${slots.pool.join(', ')}]: ${[...claimed, ...held].join('; ')}`, {
    code: 'E_POOL_EXHAUSTED',
    hint: "finish one with 'berth done <name>', or take a manual slot with --slot N",
    details: { claimed, skipped },
  })
}

/** Removes the instance's record; returns it (undefined when it was not registered). */
export function releaseInstance(home: string, id: string): Promise<StoredInstance | undefined> {
  return updateRegistry(home, (registry) => {
    const record = registry.instances.find((r) => r.id === id)
    registry.instances = registry.instances.filter((r) => r.id !== id)
    return record
  })
}
