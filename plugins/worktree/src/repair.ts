import { basename, dirname } from 'node:path'
import { composeProjectName, instanceIdFor, type Repair, type TaskContext } from '@berth/contract'
import { projectResourceCounts } from '@berth/engine'
import { resolveBaseBranch } from './base.js'
import { parentFolder, worktreeSection } from './context.js'
import { berthFolderName, isBerthWorktree } from './diagnose.js'
import { runGit } from './git.js'
import { describeLoss } from './guards.js'
import { listWorktrees } from './list.js'
import { realPathOrNull } from './paths.js'
import { removeWorktree } from './remove.js'
import { workState } from './state.js'

/**
 * `berth doctor --fix` for worktrees: removes the worktrees berth made — in the worktree parent
 * folder, named `<project>-impl-*` / `-spec-*` — that no instance is registered for (what an
 * interrupted `impl` or `done` left), but only when removing them loses nothing: no uncommitted or
 * untracked file, no commit that is neither pushed nor merged, and no compose stack (containers or
 * volumes: its data) left under its name. Their branches stay. Entries whose folder is gone are
 * pruned. Anything else is listed with the reason and left alone: a worktree made by hand (even
 * on an `impl/*` branch) is not berth's to remove. With `dryRun` nothing changes.
 */
export async function repairWorktrees(ctx: TaskContext, options: { dryRun: boolean }): Promise<Repair[]> {
  if (!ctx.repo?.root || !ctx.services.listInstances) return []
  const repo = ctx.repo.root
  const config = worktreeSection(ctx)
  const parent = parentFolder(ctx, config, ctx.repo)
  const realParent = (await realPathOrNull(parent)) ?? parent
  const registered = new Set<string>()
  for (const instance of await ctx.services.listInstances()) {
    registered.add(instance.path)
    registered.add((await realPathOrNull(instance.path)) ?? instance.path)
  }
  const repairs: Repair[] = []
  let prune = false
  for (const entry of await listWorktrees(repo)) {
    if (!isBerthWorktree(entry, ctx.config.project)) continue
    const real = (await realPathOrNull(entry.path)) ?? entry.path
    if (registered.has(entry.path) || registered.has(real)) continue
    if (entry.prunable) {
      prune = true
      repairs.push({
        action: `drop the entry of worktree ${entry.path}, whose folder is gone (git worktree prune)`,
        status: options.dryRun ? 'planned' : 'fixed',
      })
      continue
    }
    const inParent = dirname(entry.path) === parent || dirname(real) === realParent
    if (!berthFolderName(basename(entry.path), ctx.config.project) || !inParent) {
      repairs.push({
        action: `leave unregistered worktree ${entry.path} alone`,
        status: 'skipped',
        detail: `berth did not make it (not ${parent}/<project>-impl-*): register it ('berth sandbox init' there) or remove it yourself`,
      })
      continue
    }
    const stack = await projectResourceCounts(composeProjectName(instanceIdFor(basename(entry.path)))).catch(
      () => undefined,
    )
    if (!stack || stack.containers + stack.volumes > 0) {
      repairs.push({
        action: `leave unregistered worktree ${entry.path} alone`,
        status: 'skipped',
        detail: stack
          ? `its compose stack still has ${stack.containers} container(s) and ${stack.volumes} volume(s) (data): register it again ('berth sandbox init' there) or remove the stack first`
          : 'the Docker engine cannot tell whether its stack still holds data',
      })
      continue
    }
    const base = await resolveBaseBranch(repo, { baseBranch: config.baseBranch, remote: config.remote }).catch(() => ({
      name: null,
    }))
    const state = await workState(real, { baseBranch: base.name, remote: config.remote }).catch(() => undefined)
    const branch = entry.branch ? ` (branch ${entry.branch} is kept)` : ''
    const action = `remove unregistered worktree ${entry.path}${branch}`
    if (!state) {
      repairs.push({ action, status: 'skipped', detail: 'git cannot read its state; look at it yourself' })
      continue
    }
    if (state.dirty.length > 0 || state.unpushed.length > 0) {
      repairs.push({
        action: `leave unregistered worktree ${entry.path} alone`,
        status: 'skipped',
        detail: `${describeLoss(entry.path, state).replace(/\n\s*/g, ' ')}; register it ('berth sandbox init' there) or remove it yourself`,
      })
      continue
    }
    if (options.dryRun) {
      repairs.push({ action, status: 'planned' })
      continue
    }
    try {
      await removeWorktree({
        path: entry.path,
        repoRoot: repo,
        parent,
        remote: config.remote,
        createdByBerth: true,
        force: false,
      })
      repairs.push({ action, status: 'fixed' })
    } catch (error) {
      repairs.push({ action, status: 'failed', detail: (error as Error).message })
    }
  }
  if (prune && !options.dryRun) await runGit(repo, ['worktree', 'prune'], { allowFailure: true })
  return repairs
}
