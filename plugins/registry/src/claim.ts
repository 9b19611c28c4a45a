import { existsSync } from 'node:fs'
import { ConflictError, type InstanceRecord, type PortHolder, UsageError } from '@berth/contract'
import { ownerAlive, processStartTime } from './lock.js'
import type { BlockingClaim, SkippedSlot, StaleRelease } from './outputs.js'
import { blockingClaims, describeBlocks, describeClaim, describeHolders } from './overlap.js'
import { sameRepository } from './repository.js'
import type { Registry, SlotsConfig, StoredInstance } from './schema.js'
import { type StoreOptions, updateRegistry } from './store.js'

export interface ClaimOptions {
  slots: SlotsConfig
  /** An explicit `--slot N`; otherwise the lowest free pool slot. */
  slot?: number | undefined
  /** Host ports of a slot in the layout in force (env var -> port); recorded with the claim. */
  slotPorts?: ((slot: number) => Record<string, number>) | undefined
  /** Which of these ports something on the host holds; a pool slot with holders is skipped. */
  probePorts?: ((ports: number[]) => Promise<PortHolder[]>) | undefined
  /** Older form of {@link probePorts}, asked by slot; used when `probePorts` is absent. */
  probeSlot?: ((slot: number) => Promise<PortHolder[]>) | undefined
  /** How an older registry is upgraded on the way. */
  store?: StoreOptions | undefined
  /**
   * The repository's normalised `origin` URL (null: none), recorded with the claim so that two
   * repositories sharing a folder name never see each other's instances.
   */
  origin?: string | null | undefined
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
 * locked read-modify-write: the registry is the machine's single allocation authority. A slot is
 * free for the instance only when none of its host ports is claimed by a live instance of any
 * project and none is held on the host; the claim records the ports it resolved to.
 */
export async function claimSlot(home: string, instance: InstanceRecord, options: ClaimOptions): Promise<ClaimResult> {
  const startTime = await processStartTime(process.pid)
  return updateRegistry(
    home,
    async (registry) => {
      const released = await releaseStale(registry)
      assertNotRegistered(registry, instance)
      const allocation = new Allocation(registry, instance, options)
      let slot: number | null = null
      let ports: Record<string, number> = {}
      if (instance.kind === 'local-prod') {
        allocation.assertLocalProdFree()
        slot = 0
        ports = allocation.portsOf(0)
        const claims = allocation.claimsOn(0)
        if (claims.length > 0) {
          throw new ConflictError(`slot 0 (local-prod): ${claims.map(describeClaim).join('; ')}`, {
            code: 'E_PORT_CLAIMED',
            hint: 'host ports belong to the whole machine: remove that instance first, or give this project other ports (ports.*.base)',
            details: { slot: 0, claims },
          })
        }
      } else if (instance.kind !== 'spec') {
        slot = await allocation.pick()
        ports = allocation.portsOf(slot)
      }
      const record: StoredInstance = {
        ...instance,
        ...(options.origin !== undefined ? { origin: options.origin } : {}),
        slot,
        ports,
        owner: { pid: process.pid, ...(startTime ? { startTime } : {}) },
      }
      registry.instances.push(record)
      return { record, released, skipped: allocation.skipped }
    },
    options.store,
  )
}

/** An id (= compose project name, engine-wide) or a folder is registered once on the machine. */
function assertNotRegistered(registry: Registry, instance: InstanceRecord): void {
  const sameId = registry.instances.find((r) => r.id === instance.id)
  if (sameId) {
    const elsewhere = sameId.path !== instance.path
    throw new ConflictError(
      `instance ${instance.id} is already registered${elsewhere ? ` for another checkout, ${sameId.path}` : ''} (project ${sameId.project}, slot ${sameId.slot ?? '-'})`,
      {
        code: 'E_INSTANCE_EXISTS',
        hint: elsewhere
          ? `an instance id is its compose project name, which is unique on the Docker engine: pick another feature name (or sandbox init --name NAME), set "project" in this repository's berth config to a name of its own, or remove that one first ('berth done ${sameId.id}' in ${sameId.repo})`
          : `use it as it is, or remove it first with 'berth done ${instance.id}'`,
        details: { instance: sameId },
      },
    )
  }
  const samePath = registry.instances.find((r) => r.path === instance.path)
  if (samePath) {
    throw new ConflictError(`${instance.path} is already registered as ${samePath.id} (slot ${samePath.slot ?? '-'})`, {
      code: 'E_INSTANCE_EXISTS',
      hint: `this folder is already a sandbox; see 'berth sandbox status'`,
      details: { instance: samePath },
    })
  }
}

/** The slot choice of one claim, inside the locked read-modify-write. */
class Allocation {
  readonly skipped: SkippedSlot[] = []
  private readonly mine: StoredInstance[]

  constructor(
    private readonly registry: Registry,
    private readonly instance: InstanceRecord,
    private readonly options: ClaimOptions,
  ) {
    // Slot numbers and the local-prod singleton belong to one project of one repository.
    const here = { repo: instance.repo, origin: options.origin }
    this.mine = registry.instances.filter((r) => r.project === instance.project && sameRepository(r, here))
  }

  portsOf(slot: number): Record<string, number> {
    return this.options.slotPorts?.(slot) ?? {}
  }

  /** Live claims of any project holding one of `slot`'s ports. */
  claimsOn(slot: number): BlockingClaim[] {
    return blockingClaims(this.registry.instances, this.portsOf(slot), this.instance.id)
  }

  /** This project's claim on `slot` (slot numbers are per project; SLOT_NUMBER names one instance). */
  holderOf(slot: number): StoredInstance | undefined {
    return this.mine.find((r) => r.slot === slot)
  }

  async probe(slot: number): Promise<PortHolder[]> {
    if (this.options.probePorts) {
      const ports = [...new Set(Object.values(this.portsOf(slot)))]
      return ports.length === 0 ? [] : this.options.probePorts(ports)
    }
    return (await this.options.probeSlot?.(slot)) ?? []
  }

  assertLocalProdFree(): void {
    const existing = this.mine.find((r) => r.kind === 'local-prod') ?? this.holderOf(0)
    if (existing) {
      throw new ConflictError(`local-prod already exists: ${existing.id} at ${existing.path}`, {
        hint: `there is one local-prod per project; remove it with 'berth local-prod destroy' in ${existing.path}`,
        details: { instance: existing },
      })
    }
  }

  async pick(): Promise<number> {
    const { slots } = this.options
    if (this.options.slot !== undefined) return this.explicit(this.options.slot)
    for (const slot of [...slots.pool].sort((a, b) => a - b)) {
      if (this.holderOf(slot)) continue
      const claims = this.claimsOn(slot)
      if (claims.length > 0) {
        this.skipped.push({ slot, claims, holders: [] })
        continue
      }
      const holders = await this.probe(slot)
      if (holders.length > 0) {
        this.skipped.push({ slot, claims: [], holders })
        continue
      }
      return slot
    }
    return this.exhausted()
  }

  private async explicit(slot: number): Promise<number> {
    const { slots } = this.options
    if (!Number.isInteger(slot) || slot < 0 || slot > slots.max) {
      throw new UsageError(`--slot ${slot} is outside 1..${slots.max}`, { hint: `pick a slot from 1 to ${slots.max}` })
    }
    if (slots.reserved.includes(slot)) {
      throw new UsageError(`slot ${slot} is reserved${slot === 0 ? ' for local-prod' : ''}`, {
        hint: slot === 0 ? "use 'berth local-prod init' for slot 0" : 'pick another slot',
      })
    }
    const holder = this.holderOf(slot)
    if (holder) {
      throw new ConflictError(`slot ${slot} is claimed by ${holder.id} (${holder.path})`, {
        code: 'E_SLOT_TAKEN',
        hint: "pick another slot, or free it with 'berth done' / 'berth sandbox release'",
        details: { instance: holder },
      })
    }
    const claims = this.claimsOn(slot)
    if (claims.length > 0) {
      throw new ConflictError(`slot ${slot}: ${claims.map(describeClaim).join('; ')}`, {
        code: 'E_PORT_CLAIMED',
        hint: `host ports belong to the whole machine; ${await this.freeSlotHint()}`,
        details: { slot, claims },
      })
    }
    const holders = await this.probe(slot)
    if (holders.length > 0) {
      throw new ConflictError(`slot ${slot}: ${describeHolders(holders)}`, {
        code: 'E_PORT_TAKEN',
        hint: 'stop whatever holds those ports, or pick another slot',
        details: { slot, holders },
      })
    }
    return slot
  }

  private async exhausted(): Promise<never> {
    const { slots } = this.options
    const own = slots.pool.map((slot) => this.holderOf(slot)).filter((r): r is StoredInstance => r !== undefined)
    const reasons = [
      ...own.map((r) => `slot ${r.slot}: ${r.id} (${r.path})`),
      ...this.skipped.map((s) => `slot ${s.slot}: ${describeBlocks(s.claims, s.holders)}`),
    ]
    const others = [...new Set(this.skipped.flatMap((s) => s.claims.map((c) => c.project)))].filter(
      (project) => project !== this.instance.project,
    )
    const byOthers = own.length === 0 && this.skipped.length > 0 && this.skipped.every((s) => s.claims.length > 0)
    const free = await this.firstFreeManualSlot()
    const summary = byOthers ? ` — the pool is used up by other projects (${others.join(', ')})` : ''
    throw new ConflictError(`no free slot in the pool [${slots.pool.join(', ')}]: ${reasons.join('; ')}${summary}`, {
      code: 'E_POOL_EXHAUSTED',
      hint:
        free === undefined
          ? `no slot up to ${slots.max} is free either: finish an instance with 'berth done <name>', raise slots.max, or move this project's ports (ports.*.base) away from the other projects'`
          : `slot ${free} is the first free manual slot: take it with --slot ${free}${own.length > 0 ? ", or finish an instance with 'berth done <name>'" : ''}`,
      details: {
        claimed: own.map((r) => `slot ${r.slot}: ${r.id} (${r.path})`),
        skipped: this.skipped,
        firstFreeSlot: free ?? null,
      },
    })
  }

  private async freeSlotHint(): Promise<string> {
    const pool = await this.firstFreeSlot(true)
    if (pool !== undefined) return `pool slot ${pool} is free: leave out --slot, or pass --slot ${pool}`
    const manual = await this.firstFreeSlot(false)
    return manual === undefined
      ? `no slot up to ${this.options.slots.max} is free; raise slots.max or move this project's ports (ports.*.base)`
      : `slot ${manual} is the first free manual slot: --slot ${manual}`
  }

  private firstFreeManualSlot(): Promise<number | undefined> {
    return this.firstFreeSlot(false)
  }

  /** The lowest pool (or manual) slot that nothing claims or holds, for the hint. */
  private async firstFreeSlot(inPool: boolean): Promise<number | undefined> {
    const { slots } = this.options
    for (let slot = 1; slot <= slots.max; slot++) {
      if (slots.pool.includes(slot) !== inPool || slots.reserved.includes(slot) || slot === this.options.slot) continue
      if (this.holderOf(slot) || this.claimsOn(slot).length > 0) continue
      if ((await this.probe(slot)).length === 0) return slot
    }
    return undefined
  }
}

/** Removes the instance's record; returns it (undefined when it was not registered). */
export function releaseInstance(
  home: string,
  id: string,
  options: StoreOptions = {},
): Promise<StoredInstance | undefined> {
  return updateRegistry(
    home,
    (registry) => {
      const record = registry.instances.find((r) => r.id === id)
      registry.instances = registry.instances.filter((r) => r.id !== id)
      return record
    },
    options,
  )
}
