import * as z from 'zod'
import { lazySchema } from './lazy-schema.js'

export const INSTANCE_KINDS = ['sandbox', 'impl', 'spec', 'local-prod'] as const
export type InstanceKind = (typeof INSTANCE_KINDS)[number]

/** One registered instance, as commands show it (`output.instance`, `output.instances[]`). */
export const instanceRecordSchema = lazySchema(() =>
  z.object({
    /** Instance id = compose project name: `[a-z0-9][a-z0-9_-]*`, unique on the machine. */
    id: z.string().min(1),
    /**
     * The name as the user typed it (`impl genome/M1`, `impl MyFeature`, `sandbox init --name X`);
     * `done`, completion and `--json` show and accept it as well as the id.
     */
    name: z.string().optional(),
    project: z.string().min(1),
    kind: z.enum(INSTANCE_KINDS),
    /** null for spec worktrees, which hold no slot. */
    slot: z.number().int().min(0).nullable(),
    /** Absolute path of the instance's checkout (worktree or clone). */
    path: z.string().min(1),
    /** Absolute path of the main checkout the instance belongs to. */
    repo: z.string().min(1),
    branch: z.string().optional(),
    /**
     * False when the branch was berth's to check out but not its own (`impl x --branch B`, or an
     * `impl/<name>` that already existed); true when berth created it. berth never deletes a branch
     * at `done`; only a failed `impl` removes the branch that same run created.
     */
    branchCreatedByBerth: z.boolean().optional(),
    /** The slot profile the instance runs with (`impl --profile P`); absent: the stack as written. */
    profile: z.string().optional(),
    /** True when berth created the folder (and so may remove it). */
    createdByBerth: z.boolean(),
    createdAt: z.string(),
    /** The repository's `origin` remote (normalised), null when it has none. */
    origin: z.string().nullable().optional(),
    /**
     * The host ports the claim holds, env var -> port, resolved from the layout in force when it was
     * claimed. Set by `registry.claim`; absent on an instance planned but not yet claimed.
     */
    ports: z.record(z.string(), z.number().int().min(1).max(65535)).optional(),
    /** The ports were assumed when an older registry was upgraded (see `berth doctor`). */
    portsAssumed: z.literal(true).optional(),
  }),
)

export type InstanceRecord = z.infer<typeof instanceRecordSchema>

/** A process or container that holds a host port. */
export const portHolderSchema = lazySchema(() =>
  z.object({
    port: z.number().int(),
    /** Human form: `pid 123 (python3 -m http.server 8002)` or `container acme-db-1 (acme)`. */
    description: z.string(),
    pid: z.number().int().optional(),
    command: z.string().optional(),
    container: z.string().optional(),
    project: z.string().optional(),
  }),
)

export type PortHolder = z.infer<typeof portHolderSchema>

/** `genome/M1 (acme-impl-genome-m1)` when the typed name is not already the id's tail, else the id. */
export function instanceLabel(instance: Pick<InstanceRecord, 'id' | 'name'>, joiner = ' '): string {
  const { id, name } = instance
  if (!name || name === id || id.endsWith(`-${name}`)) return id
  return joiner === ' ' ? `${name} (${id})` : `${name}${joiner}${id}`
}
