import type { InstanceRecord } from '@berth/contract'
import { lazySchema } from '@berth/contract'
import * as z from 'zod'
import { checkoutType } from './checkout.js'
import { listWorktrees } from './list.js'
import { realPathOrNull } from './paths.js'
import { workState } from './state.js'

/** One row of `berth worktrees --json` (a stable, documented shape). */
export const worktreeListingSchema = lazySchema(() =>
  z.object({
    path: z.string(),
    /** `spec`/`impl` from the registry record or the branch prefix; everything else is `other`. */
    kind: z.enum(['spec', 'impl', 'other']),
    /** The main checkout of the repository. */
    main: z.boolean(),
    checkout: z.enum(['worktree', 'clone']),
    branch: z.string().nullable(),
    head: z.string().nullable(),
    /** Registered instance id and slot, when the registry knows the path. */
    id: z.string().nullable(),
    /** The name the instance was made with, as typed (`genome/M1`); null when not registered or none. */
    name: z.string().nullable(),
    slot: z.number().int().nullable(),
    locked: z.boolean(),
    /** The folder is gone; `git worktree prune` will drop it. */
    missing: z.boolean(),
    dirty: z.array(z.string()),
    unpushed: z.array(z.object({ sha: z.string(), subject: z.string() })),
    upstream: z.string().nullable(),
  }),
)

export type WorktreeListing = z.infer<typeof worktreeListingSchema>

export interface DescribeOptions {
  /** Registered instances (any project); matched to worktrees by real path. */
  instances?: readonly InstanceRecord[]
  baseBranch?: string | null | undefined
  remote?: string
}

/**
 * Every worktree of the repository at `repoRoot` (main checkout first), plus the registered
 * clones of it, with kind, branch, slot and dirty/unpushed state. One `git worktree list`, then
 * the per-checkout state queries run in parallel.
 */
export async function describeWorktrees(repoRoot: string, options: DescribeOptions = {}): Promise<WorktreeListing[]> {
  const entries = (await listWorktrees(repoRoot)).filter((entry) => !entry.bare)
  const instances = await indexByRealPath(options.instances ?? [])
  const realRoot = (await realPathOrNull(repoRoot)) ?? repoRoot
  const seen = new Set<string>()
  const rows = entries.map(async (entry): Promise<WorktreeListing> => {
    const real = await realPathOrNull(entry.path)
    if (real) seen.add(real)
    const instance = real ? instances.get(real) : undefined
    const state = real && !entry.prunable ? await workState(real, options) : null
    return {
      path: entry.path,
      kind: kindOf(instance, entry.branch),
      main: entry.main,
      checkout: entry.main ? 'clone' : 'worktree',
      branch: entry.branch,
      head: entry.head,
      id: instance?.id ?? null,
      name: instance?.name ?? null,
      slot: instance?.slot ?? null,
      locked: entry.locked,
      missing: entry.prunable || !real,
      dirty: state?.dirty ?? [],
      unpushed: state?.unpushed ?? [],
      upstream: state?.upstream ?? null,
    }
  })
  const listed = await Promise.all(rows)
  const clones = [...instances.entries()]
    .filter(([real]) => !seen.has(real))
    .map(async ([real, instance]): Promise<WorktreeListing | null> => {
      if ((await realPathOrNull(instance.repo)) !== realRoot) return null
      const isClone = (await checkoutType(real)) === 'clone'
      const state = isClone ? await workState(real, options) : null
      return {
        path: instance.path,
        kind: kindOf(instance, state?.branch ?? instance.branch ?? null),
        main: false,
        checkout: 'clone',
        branch: state?.branch ?? instance.branch ?? null,
        head: null,
        id: instance.id,
        name: instance.name ?? null,
        slot: instance.slot,
        locked: false,
        missing: !isClone,
        dirty: state?.dirty ?? [],
        unpushed: state?.unpushed ?? [],
        upstream: state?.upstream ?? null,
      }
    })
  const found = (await Promise.all(clones)).filter((row): row is WorktreeListing => row !== null)
  return [...listed, ...found]
}

function kindOf(instance: InstanceRecord | undefined, branch: string | null): WorktreeListing['kind'] {
  if (instance?.kind === 'spec' || instance?.kind === 'impl') return instance.kind
  if (branch?.startsWith('spec/')) return 'spec'
  if (branch?.startsWith('impl/')) return 'impl'
  return 'other'
}

async function indexByRealPath(instances: readonly InstanceRecord[]): Promise<Map<string, InstanceRecord>> {
  const index = new Map<string, InstanceRecord>()
  for (const instance of instances) index.set((await realPathOrNull(instance.path)) ?? instance.path, instance)
  return index
}
