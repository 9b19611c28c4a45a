import {
  type Diagnosis,
  definePlugin,
  defineState,
  defineStep,
  type InstanceProfile,
  type InstanceRecord,
  instanceOutput,
  OperationError,
  type Plugin,
  type TaskContext,
  UsageError,
} from '@berth/contract'
import { capacityStep, diagnoseCapacity, releaseReservation } from './capacity-step.js'
import { claimSlot, releaseInstance, releaseStale } from './claim.js'
import {
  diagnoseInstanceLocks,
  dropInstance,
  lockStep,
  recordAbandoned,
  releaseHeldLock,
  repairInstanceLocks,
} from './lock-step.js'
import {
  instancesOutput,
  registryUpgradeOutput,
  releasedOutput,
  releasedStaleOutput,
  skippedSlotsOutput,
  slotsOutput,
} from './outputs.js'
import { describeBlocks, listPorts, overlappingClaims } from './overlap.js'
import { sameRepository } from './repository.js'
import { resolveByCwd, resolveByName } from './resolve.js'
import { limitsSection, type SlotsConfig, type StoredInstance, slotsSection } from './schema.js'
import { slotTable } from './slots.js'
import { readRegistry, registryPaths, type StoreOptions, updateRegistry } from './store.js'
import { describeUpgrade } from './upgrade.js'

export const REGISTRY_PLUGIN_VERSION = '0.1.0'

/** Between `registry.claim` / `registry.release` and their undo: the record claimed or dropped. */
const claimedState = defineState<StoredInstance>('registry.claimed')
const releasedState = defineState<StoredInstance>('registry.released')

const publicRecord = ({ owner: _owner, ...record }: StoredInstance): InstanceRecord => record

/**
 * How this command's registry reads upgrade an older file: unknown ports are the default
 * layout's (ports plugin), and the upgrade is reported once, by the command that wrote it.
 */
function storeOptions(ctx: TaskContext): StoreOptions {
  return {
    assumePorts: ctx.services.defaultSlotPorts,
    onUpgrade(upgrade, file) {
      const [summary, ...assumed] = describeUpgrade(file, upgrade)
      ctx.log.info(summary!)
      for (const line of assumed) ctx.log.warn(line)
      ctx.output.registryUpgrade = upgrade
    },
  }
}

/** Two records with one id, one path, or one project's slot: the registry was edited by hand. */
function duplicateClaims(instances: StoredInstance[]): Diagnosis[] {
  const found: Diagnosis[] = []
  const twice = <K>(
    key: (r: StoredInstance) => K | null,
    what: (k: K) => string,
    related: (a: StoredInstance, b: StoredInstance) => boolean = () => true,
  ) => {
    const groups = new Map<K, StoredInstance[]>()
    for (const record of instances) {
      const k = key(record)
      if (k !== null) groups.set(k, [...(groups.get(k) ?? []), record])
    }
    for (const [k, group] of groups) {
      const records = group.filter((a) => group.some((b) => b !== a && related(a, b)))
      if (records.length < 2) continue
      found.push({
        check: 'duplicate claims',
        status: 'warn',
        detail: `${what(k)} is registered ${records.length} times: ${records.map((r) => `${r.id} (slot ${r.slot ?? '-'}, ${r.path})`).join('; ')}`,
        hint: `the registry was edited by hand; keep one: 'berth sandbox release <slot>' drops a claim without touching its folder`,
      })
    }
  }
  twice(
    (r) => r.id,
    (id) => `instance id ${id}`,
  )
  twice(
    (r) => r.path,
    (path) => `folder ${path}`,
  )
  twice(
    (r) => (r.slot === null ? null : `${r.project}\u0000${r.slot}`),
    (k) => `slot ${k.split('\u0000')[1]} of ${k.split('\u0000')[0]}`,
    // Slot numbers are per project of one repository: two repositories sharing a name may both have slot 1.
    sameRepository,
  )
  return found
}

/**
 * `berth:registry` — the single allocation authority for slots, in `$BERTH_HOME/registry.json`.
 * Config sections `slots` (pool, max, reserved) and `limits` (the machine's cap on running stacks).
 */
export function registryPlugin(): Plugin {
  const slotsOf = (ctx: TaskContext) => slotsSection.read(ctx)
  // A command acts on its own project's instances in its own repository: two repositories whose
  // folders share a name (and so a default project name) never see each other's records.
  const isMine = (ctx: TaskContext) => {
    const here = ctx.repo ? { repo: ctx.repo.root, origin: ctx.repo.origin } : undefined
    return (r: StoredInstance) => r.project === ctx.config.project && (!here || sameRepository(r, here))
  }
  const projectInstances = async (ctx: TaskContext) =>
    (await readRegistry(ctx.home, storeOptions(ctx))).instances.filter(isMine(ctx))

  return definePlugin({
    name: 'berth:registry',
    version: REGISTRY_PLUGIN_VERSION,
    sections: [slotsSection, limitsSection],
    services: (ctx) => ({
      maxSlot: () => slotsOf(ctx).max,
      listInstances: async () => (await projectInstances(ctx)).map(publicRecord),
      machineInstances: async () => (await readRegistry(ctx.home, storeOptions(ctx))).instances.map(publicRecord),
      recordProfile: async (id, profile) => {
        await updateRegistry(
          ctx.home,
          (registry) => {
            const record = registry.instances.find((r) => r.id === id)
            if (!record) return
            if (profile === undefined) delete record.profile
            else record.profile = profile
          },
          storeOptions(ctx),
        )
      },
    }),
    async diagnose(ctx) {
      const { file } = registryPaths(ctx.home)
      let registry: Awaited<ReturnType<typeof readRegistry>>
      try {
        registry = await readRegistry(ctx.home, storeOptions(ctx))
      } catch (error) {
        const e = error as OperationError
        return [
          { check: 'registry', status: 'fail', detail: e.message, ...(e.hint ? { hint: e.hint } : {}), exitCode: 1 },
        ]
      }
      const found: Diagnosis[] = [
        { check: 'registry', status: 'ok', detail: `${file}: ${registry.instances.length} instance(s)` },
      ]
      const probe = structuredClone(registry)
      for (const stale of await releaseStale(probe)) {
        found.push({
          check: 'stale claim',
          status: 'warn',
          detail: `slot ${stale.slot ?? '-'}: ${stale.id} (${stale.reason}: ${stale.path})`,
          hint: `the next claim releases it, or run 'berth sandbox release ${stale.slot ?? ''}'`.trim(),
        })
      }
      found.push(
        ...diagnoseClaimPorts(registry.instances, ctx.config.project),
        ...duplicateClaims(registry.instances),
        ...(await diagnoseInstanceLocks(ctx.home)),
        ...(await diagnoseCapacity(ctx)),
      )
      return found
    },
    async repair(ctx, { dryRun }) {
      const ghosts = dryRun
        ? await releaseStale(structuredClone(await readRegistry(ctx.home, storeOptions(ctx))))
        : await updateRegistry(ctx.home, (registry) => releaseStale(registry), storeOptions(ctx))
      return [
        ...ghosts.map((ghost) => ({
          action: `release ghost claim ${ghost.id} (slot ${ghost.slot ?? '-'}, ${ghost.reason}: ${ghost.path})`,
          status: dryRun ? ('planned' as const) : ('fixed' as const),
        })),
        ...(await repairInstanceLocks(ctx.home, dryRun, (id) =>
          updateRegistry(ctx.home, (registry) => dropInstance(registry, id), storeOptions(ctx)),
        )),
      ]
    },
    // After the pipeline and its rollback: the place under the running cap goes back (the stack's
    // containers now count themselves) and the instance is free for the next operation.
    finalize: async (ctx) => {
      await releaseReservation(ctx)
      await releaseHeldLock(ctx)
    },
    abandon: recordAbandoned,
    steps: {
      lock: lockStep,
      capacity: capacityStep,
      claim: defineStep({
        description: 'registers the instance and claims its slot (lowest free pool slot unless --slot)',
        config: slotsSection,
        outputs: [instanceOutput, releasedStaleOutput, skippedSlotsOutput, registryUpgradeOutput],
        validate(ctx) {
          // A port layout that gives one port twice (ports plugin: exit 2) is refused before the
          // first step changes anything, not once the claim is under way.
          ctx.services.slotPorts?.(0)
        },
        async run(ctx) {
          if (!ctx.instance) throw new OperationError('registry.claim needs an instance planned by an earlier step')
          const result = await claimSlot(ctx.home, ctx.instance, {
            slots: profileSlots(ctx.settings, ctx.services.instanceProfile?.(ctx.instance)),
            slot: ctx.request.slot,
            slotPorts: ctx.services.slotPorts,
            probePorts: ctx.services.probePorts,
            probeSlot: ctx.services.probeSlot,
            store: storeOptions(ctx),
            origin: ctx.repo?.origin,
          })
          for (const stale of result.released) {
            ctx.log.warn(`released stale claim: slot ${stale.slot ?? '-'} (${stale.reason}) — ${stale.id}`)
          }
          for (const skip of result.skipped) {
            ctx.log.warn(`skipped slot ${skip.slot}: ${describeBlocks(skip.claims, skip.holders)}`)
          }
          ctx.instance = { ...ctx.instance, slot: result.record.slot, ports: result.record.ports }
          claimedState.set(ctx, result.record)
          ctx.output.instance = publicRecord(result.record)
          if (result.released.length > 0) ctx.output.releasedStale = result.released
          if (result.skipped.length > 0) ctx.output.skippedSlots = result.skipped
        },
        async undo(ctx) {
          const claimed = claimedState.get(ctx)
          if (claimed) await releaseInstance(ctx.home, claimed.id, storeOptions(ctx))
        },
      }),
      resolve: defineStep({
        description: 'finds the instance by name (exact id, then unique prefix) or by the current folder',
        uses: ['defaultSlotPorts'],
        outputs: [instanceOutput, registryUpgradeOutput],
        async run(ctx) {
          const instances = await projectInstances(ctx)
          let record: StoredInstance | undefined
          if (ctx.request.name) record = await resolveNamed(ctx, instances, ctx.request.name)
          else if (ctx.request.kind === 'local-prod') {
            // local-prod commands act on the registered path, never on the cwd.
            record = instances.find((r) => r.kind === 'local-prod')
            if (!record) {
              throw new UsageError(`no local-prod is registered for ${ctx.config.project}`, {
                code: 'E_NOT_AN_INSTANCE',
                hint: "run 'berth local-prod init' in the clone that should be local-prod",
              })
            }
          } else record = resolveByCwd(instances, ctx.cwd)
          if (!record) {
            throw new UsageError(`${ctx.cwd} is not inside a registered instance of ${ctx.config.project}`, {
              code: 'E_NOT_AN_INSTANCE',
              hint: "name one (see 'berth sandbox list'), or register this folder with 'berth sandbox init'",
            })
          }
          ctx.instance = publicRecord(record)
          ctx.output.instance = ctx.instance
        },
      }),
      release: defineStep({
        description: "removes the instance's record, freeing its slot",
        outputs: [releasedOutput, registryUpgradeOutput],
        plan: (ctx) => `release slot ${ctx.instance?.slot ?? '-'} and forget ${ctx.instance?.id ?? '?'}`,
        async run(ctx) {
          if (!ctx.instance) return
          const released = await releaseInstance(ctx.home, ctx.instance.id, storeOptions(ctx))
          if (released) releasedState.set(ctx, released)
          ctx.output.released = { id: ctx.instance.id, slot: ctx.instance.slot }
        },
        async undo(ctx) {
          const released = releasedState.get(ctx)
          if (!released) return
          await updateRegistry(
            ctx.home,
            (registry) => {
              if (!registry.instances.some((r) => r.id === released.id)) registry.instances.push(released)
            },
            storeOptions(ctx),
          )
        },
      }),
      releaseSlot: defineStep({
        description: 'releases the claim on slot N (the folder is not touched)',
        effect: 'write',
        outputs: [releasedOutput, registryUpgradeOutput],
        plan: (ctx) => `release the claim on slot ${ctx.request.slot ?? '?'}`,
        async run(ctx) {
          const slot = ctx.request.slot
          if (slot === undefined) throw new UsageError('which slot? e.g. berth sandbox release 2')
          const released = await updateRegistry(
            ctx.home,
            (registry) => {
              const record = registry.instances.find((r) => isMine(ctx)(r) && r.slot === slot)
              if (record) registry.instances = registry.instances.filter((r) => r !== record)
              return record
            },
            storeOptions(ctx),
          )
          if (!released) {
            throw new UsageError(`slot ${slot} is not claimed in ${ctx.config.project}`, {
              hint: "see 'berth sandbox slots'",
            })
          }
          ctx.log.info(`released slot ${slot} (${released.id}, ${released.path}); its folder was not touched`)
          ctx.output.released = publicRecord(released)
        },
      }),
      list: defineStep({
        description: "lists the project's registered instances",
        uses: ['defaultSlotPorts'],
        outputs: [instancesOutput, registryUpgradeOutput],
        async run(ctx) {
          ctx.output.instances = (await projectInstances(ctx)).map(publicRecord)
        },
      }),
      slots: defineStep({
        description: 'shows every slot: pool or manual; free, claimed, blocked by another project, or held on the host',
        config: slotsSection,
        outputs: [slotsOutput, registryUpgradeOutput],
        // slotPorts reads the compose file's published ports (derived ports) and maxSlot.
        uses: ['defaultSlotPorts', 'slotPorts', 'probePorts', 'prefetchPortProbe', 'publishedHostPorts', 'maxSlot'],
        // The kernel lists the listening ports while the slots' ports are worked out.
        prefetch(ctx) {
          ctx.services.prefetchPortProbe?.()
        },
        async run(ctx) {
          const registry = await readRegistry(ctx.home, storeOptions(ctx))
          ctx.output.slots = await slotTable({
            instances: registry.instances,
            mine: registry.instances.filter(isMine(ctx)),
            slots: ctx.settings,
            slotPorts: (slot) => ctx.services.slotPorts?.(slot) ?? {},
            probePorts: ctx.services.probePorts,
          })
        },
      }),
    },
  })
}

/**
 * `berth doctor`: claims of this project whose ports were assumed at the upgrade, and pairs of
 * claims (one of them this project's) that share a port — possible only for claims made before
 * ports were recorded; only one of each pair can run at a time.
 */
function diagnoseClaimPorts(instances: readonly StoredInstance[], project: string): Diagnosis[] {
  const found: Diagnosis[] = []
  for (const record of instances.filter((r) => r.project === project && r.portsAssumed)) {
    found.push({
      check: 'claim ports',
      status: 'warn',
      detail: `${record.id} holds slot ${record.slot}'s ports in the default layout (${Object.values(record.ports).join(', ')}): assumed when the registry was upgraded, since its .env.sandbox could not tell`,
      hint: `if it runs on other ports, 'berth done ${record.id}' (or 'berth sandbox release ${record.slot}') and claim again`,
    })
  }
  for (const { a, b, ports } of overlappingClaims(instances)) {
    if (a.project !== project && b.project !== project) continue
    found.push({
      check: 'claim ports',
      status: 'warn',
      detail: `${a.id} (project ${a.project}, ${a.path}) and ${b.id} (project ${b.project}, ${b.path}) both claim ${listPorts(ports)}: only one of them can run at a time`,
      hint: `claims made before ports were recorded can overlap; 'berth done' one of them and claim again — new claims never overlap`,
    })
  }
  return found
}

/**
 * `resolveByName` over this repository's instances. When nothing here has that name but an
 * instance of another repository does, the error says so: berth never acts on another
 * repository's instance, even one whose project name is the same.
 */
async function resolveNamed(ctx: TaskContext, instances: StoredInstance[], name: string): Promise<StoredInstance> {
  try {
    return resolveByName(instances, name, ctx.config.project)
  } catch (error) {
    if (!(error instanceof UsageError) || error.code !== 'E_NOT_FOUND') throw error
    const elsewhere = (await readRegistry(ctx.home)).instances.filter(
      (r) => !instances.includes(r) && (r.id === name || r.name === name),
    )
    if (elsewhere.length === 0) throw error
    throw new UsageError(`no instance named "${name}" in this repository`, {
      code: 'E_NOT_FOUND',
      hint: `${elsewhere.map((r) => `${r.id} is an instance of another repository (${r.repo})`).join('; ')}: berth acts only on this repository's instances — run the command there`,
      details: { elsewhere: elsewhere.map(publicRecord) },
    })
  }
}

/**
 * The slots an instance may claim: its profile's `slots` (instead of the pool) when it has them,
 * each within 1..max and not reserved, else the configured pool.
 */
function profileSlots(slots: SlotsConfig, profile: InstanceProfile | undefined): SlotsConfig {
  if (!profile?.slots) return slots
  const bad = profile.slots.filter((slot) => slot > slots.max || slots.reserved.includes(slot))
  if (bad.length > 0) {
    throw new UsageError(
      `profiles.${profile.name}.slots: slot ${bad.join(', ')} ${bad.length === 1 ? 'is' : 'are'} outside 1..${slots.max} or reserved`,
      { hint: `pin the profile to slots from 1 to ${slots.max} (slots.max) that slots.reserved does not hold` },
    )
  }
  return { ...slots, pool: profile.slots }
}
