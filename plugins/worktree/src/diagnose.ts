import { existsSync } from 'node:fs'
import type { Diagnosis, InstanceRecord, TaskContext } from '@berth/contract'
import { checkoutType } from './checkout.js'
import { listWorktrees, type WorktreeEntry } from './list.js'
import { realPathOrNull } from './paths.js'

/** Branch prefixes of the worktrees `berth impl` / `berth spec` make. */
const BERTH_BRANCHES = /^(impl|spec)\//

/**
 * Compares the registry with `git worktree list` of each repository: a registered instance
 * whose folder exists but is neither a worktree git knows nor a clone (the worktree was removed
 * or re-created by hand), and worktrees on `impl/*` or `spec/*` branches the registry does not
 * know (made by hand, or left by an interrupted `done`). Report only; changes nothing.
 * Registered folders that are gone are the registry's ghost claims and not repeated here.
 */
export async function diagnoseWorktrees(ctx: TaskContext): Promise<Diagnosis[]> {
  if (!ctx.services.listInstances) return []
  const instances = await ctx.services.listInstances()
  const repos = new Set(instances.map((i) => i.repo))
  if (ctx.repo?.root) repos.add(ctx.repo.root)
  const found: Diagnosis[] = []
  for (const repo of repos) {
    if (!existsSync(repo)) continue
    let entries: WorktreeEntry[]
    try {
      entries = await listWorktrees(repo)
    } catch (error) {
      found.push({
        check: 'worktrees',
        status: 'warn',
        detail: `git worktree list in ${repo} failed: ${(error as Error).message}`,
      })
      continue
    }
    found.push(
      ...(await compare(
        repo,
        entries,
        instances.filter((i) => i.repo === repo),
      )),
    )
  }
  return found
}

async function compare(repo: string, entries: WorktreeEntry[], instances: InstanceRecord[]): Promise<Diagnosis[]> {
  const found: Diagnosis[] = []
  const listed = new Set(await Promise.all(entries.map(async (e) => (await realPathOrNull(e.path)) ?? e.path)))
  const registered = new Set<string>()
  for (const instance of instances) {
    const real = await realPathOrNull(instance.path)
    registered.add(real ?? instance.path)
    if (!real) continue
    if (listed.has(real) || (await checkoutType(real)) === 'clone') continue
    found.push({
      check: 'worktree',
      status: 'warn',
      detail: `${instance.id} is registered at ${instance.path}, which git worktree list of ${repo} does not list (and it is not a clone)`,
      hint: `see what the folder is; 'berth done ${instance.id} --force' forgets it, or 'git worktree repair' if it was moved`,
    })
  }
  for (const entry of entries) {
    if (entry.main || entry.bare || !entry.branch || !BERTH_BRANCHES.test(entry.branch)) continue
    const real = (await realPathOrNull(entry.path)) ?? entry.path
    if (registered.has(real) || registered.has(entry.path)) continue
    found.push({
      check: 'worktree',
      status: 'warn',
      detail: entry.prunable
        ? `worktree ${entry.path} on ${entry.branch} is gone but still listed by git`
        : `worktree ${entry.path} on ${entry.branch} is not registered with berth`,
      hint: entry.prunable
        ? `'git -C ${repo} worktree prune' drops the entry`
        : `register it with 'berth sandbox init' inside it, or remove it with 'git -C ${repo} worktree remove ${entry.path}'`,
    })
  }
  if (found.length === 0) {
    found.push({
      check: 'worktrees',
      status: 'ok',
      detail: `${repo}: ${entries.length} worktree(s), ${instances.length} registered instance(s), all consistent`,
    })
  }
  return found
}
