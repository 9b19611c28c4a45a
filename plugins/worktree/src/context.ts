import { ConfigError, type RepoInfo, type TaskContext, UsageError } from '@berth/contract'
import { detectCheckout } from './checkout.js'
import { resolveParent, type WorktreeConfig, worktreeConfigSchema } from './config.js'
import type { CreatedWorktree } from './create.js'
import type { RemovalCheck } from './guards.js'
import type { WorktreeKind, WorktreePlan } from './plan.js'
import type { RemoveResult } from './remove.js'

/** The plugin's private data in `ctx.state.worktree`. */
export interface WorktreeState {
  plan?: WorktreePlan
  /** `--branch`: check out an existing branch (local or the remote's), never create one. */
  existingBranch?: boolean
  created?: CreatedWorktree
  check?: RemovalCheck
  removed?: RemoveResult
}

export const STATE_KEY = 'worktree'

export function worktreeState(ctx: TaskContext): WorktreeState {
  const existing = ctx.state[STATE_KEY] as WorktreeState | undefined
  if (existing) return existing
  const fresh: WorktreeState = {}
  ctx.state[STATE_KEY] = fresh
  return fresh
}

/** The `worktree` section with defaults (parsing again is harmless when the runner already did). */
export function worktreeSection(ctx: TaskContext): WorktreeConfig {
  const parsed = worktreeConfigSchema.safeParse(ctx.config.sections.worktree)
  if (parsed.success) return parsed.data
  const problems = parsed.error.issues.map((issue) => `worktree.${issue.path.join('.')}: ${issue.message}`)
  throw new ConfigError('the worktree config section is invalid', problems)
}

/** `ctx.repo`, detected from the cwd when the runner has not set it. */
export async function repoOf(ctx: TaskContext): Promise<RepoInfo> {
  if (!ctx.repo) ctx.repo = await detectCheckout(ctx.cwd)
  return ctx.repo
}

export function parentFolder(ctx: TaskContext, config: WorktreeConfig, repo: RepoInfo): string {
  return resolveParent(config.parent, ctx.config.root, repo.root)
}

export function forced(ctx: TaskContext): boolean {
  const force = ctx.args.flags.force
  return force === true || force === 'true'
}

/** `--from REF`, or undefined. */
export function fromFlag(ctx: TaskContext): string | undefined {
  const from = ctx.args.flags.from
  if (from === undefined || from === false) return undefined
  if (typeof from !== 'string' || from.length === 0) {
    throw new UsageError('--from needs a value', { hint: 'e.g. --from main, --from v1.2.0 or --from <sha>' })
  }
  return from
}

/**
 * `--branch B`: an existing branch (local, or the remote's) the worktree checks out instead of
 * creating `<kind>/<name>`; undefined when not given. Refuses `--from` with it (exit 2): `--from`
 * starts a new branch, `--branch` takes one that exists.
 */
export function branchFlag(ctx: TaskContext): string | undefined {
  const branch = ctx.args.flags.branch
  if (branch === undefined || branch === false) return undefined
  if (typeof branch !== 'string' || branch.length === 0) {
    throw new UsageError('--branch needs a value', { hint: 'e.g. --branch feature/agent-work' })
  }
  if (fromFlag(ctx) !== undefined) {
    throw new UsageError('--branch and --from cannot be used together', {
      hint: '--branch checks out an existing branch as it is; --from starts the new branch <kind>/<name> from REF',
    })
  }
  return branch
}

/** `spec` or `impl`: from the request, else from the task name. */
export function requestedKind(ctx: TaskContext): WorktreeKind {
  const kind = ctx.request.kind ?? ctx.task
  if (kind === 'spec' || kind === 'impl') return kind
  throw new UsageError(`worktree.plan creates spec and impl worktrees, not ${JSON.stringify(kind)}`, {
    hint: 'use it in the spec or impl pipeline',
  })
}

/** The feature name: the request's, else the first positional argument. */
export function requestedName(ctx: TaskContext): string {
  const name = ctx.request.name ?? ctx.args.positionals[0]
  if (name === undefined) {
    throw new UsageError('a feature name is required', {
      hint: `berth ${ctx.task} <feature>, e.g. berth impl my-feature`,
    })
  }
  return name
}

/**
 * local-prod is a clone the user made (often the main checkout) and holds their real data: berth
 * never deletes it, with or without --force. `local-prod destroy` stops the stack and releases
 * slot 0; the folder stays where it is.
 */
export function keepsFolder(instance: NonNullable<TaskContext['instance']>): boolean {
  return instance.kind === 'local-prod'
}

export function instanceOf(ctx: TaskContext, step: string): NonNullable<TaskContext['instance']> {
  if (ctx.instance) return ctx.instance
  throw new UsageError(`${step} needs an instance, and none was resolved`, {
    hint: 'put registry.resolve before it in the pipeline',
  })
}
