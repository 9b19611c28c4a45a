import { existsSync } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { type Diagnosis, type InstanceRecord, slugify, type TaskContext } from '@berth/contract'
import { checkoutType } from './checkout.js'
import { parentFolder, worktreeSection } from './context.js'
import { listWorktrees, type WorktreeEntry } from './list.js'
import { realPathOrNull } from './paths.js'

/** Branch prefixes of the worktrees `berth impl` / `berth spec` make. */
const BERTH_BRANCHES = /^(impl|spec)\//

/** True for a folder named the way `berth impl` / `berth spec` name worktrees of `project`. */
export function berthFolderName(name: string, project: string): boolean {
  const prefix = slugify(project)
  return name.startsWith(`${prefix}-impl-`) || name.startsWith(`${prefix}-spec-`)
}

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
        ctx.config.project,
      )),
    )
  }
  found.push(...(await strayFolders(ctx, instances)))
  return found
}

/**
 * Folders in the worktree parent named like berth's worktrees of this project that are neither a
 * worktree git lists nor registered: what an interrupted `impl` of an older berth left, or a
 * removed worktree something wrote into again. Named, never removed (nothing proves they hold
 * nothing of value).
 */
async function strayFolders(ctx: TaskContext, instances: InstanceRecord[]): Promise<Diagnosis[]> {
  if (!ctx.repo?.root) return []
  let parent: string
  try {
    parent = parentFolder(ctx, worktreeSection(ctx), ctx.repo)
  } catch {
    return []
  }
  const names = await readdir(parent, { withFileTypes: true }).catch(() => [])
  const listed = new Set<string>()
  for (const entry of await listWorktrees(ctx.repo.root).catch(() => [] as WorktreeEntry[])) {
    listed.add(entry.path)
    listed.add((await realPathOrNull(entry.path)) ?? entry.path)
  }
  const registered = new Set(instances.map((i) => i.path))
  const found: Diagnosis[] = []
  for (const entry of names) {
    if (!entry.isDirectory() || !berthFolderName(entry.name, ctx.config.project)) continue
    const path = join(parent, entry.name)
    const real = (await realPathOrNull(path)) ?? path
    if (listed.has(path) || listed.has(real) || registered.has(path) || registered.has(real)) continue
    if ((await checkoutType(real)) === 'clone') continue
    found.push({
      check: 'worktree',
      status: 'warn',
      detail: `folder ${path} is named like a berth worktree of ${ctx.config.project} but is neither a worktree git knows nor registered`,
      hint: `look inside and remove it yourself if it holds nothing you need (rm -r ${path}); berth doctor --fix never deletes it`,
    })
  }
  return found
}

/** A linked worktree berth would have made: on an `impl/*` / `spec/*` branch, or in a folder named like one. */
export function isBerthWorktree(entry: WorktreeEntry, project: string): boolean {
  if (entry.main || entry.bare) return false
  return (
    (entry.branch !== undefined && entry.branch !== null && BERTH_BRANCHES.test(entry.branch)) ||
    berthFolderName(basename(entry.path), project)
  )
}

async function compare(
  repo: string,
  entries: WorktreeEntry[],
  instances: InstanceRecord[],
  project: string,
): Promise<Diagnosis[]> {
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
    if (!isBerthWorktree(entry, project)) continue
    const real = (await realPathOrNull(entry.path)) ?? entry.path
    if (registered.has(real) || registered.has(entry.path)) continue
    const on = entry.branch ? `on ${entry.branch}` : `detached at ${entry.head?.slice(0, 12) ?? '?'}`
    found.push({
      check: 'worktree',
      status: 'warn',
      detail: entry.prunable
        ? `worktree ${entry.path} ${on} is gone but still listed by git`
        : `worktree ${entry.path} ${on} is not registered with berth`,
      hint: entry.prunable
        ? `'berth doctor --fix' (or 'git -C ${repo} worktree prune') drops the entry`
        : `'berth doctor --fix' removes it when it holds no uncommitted or unpushed work (its branch stays); or register it with 'berth sandbox init' inside it`,
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
