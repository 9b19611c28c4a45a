import { rm } from 'node:fs/promises'
import { ConflictError } from '@berth/contract'
import { firstLine, runGit } from './git.js'
import { assertSafePath, type RemovalTarget } from './guards.js'
import { listWorktrees } from './list.js'
import { realPathOrNull } from './paths.js'

export interface RemoveOptions extends RemovalTarget {
  /** Remove even with local changes, a locked worktree, or a folder berth did not create. */
  force: boolean
  createdByBerth: boolean
}

export interface RemoveResult {
  path: string
  /** False when the path was already gone (only a prune happened). */
  removed: boolean
  checkout: 'worktree' | 'clone' | null
}

/**
 * Removes the checkout at the recorded path: a linked worktree with `git -C <repoRoot> worktree
 * remove` then `git worktree prune` (its branch stays); a clone by deleting the folder, only when
 * berth created it or `force`. Runs the path guards of `assertSafePath` first, always.
 * Idempotent: a path that is already gone just prunes.
 */
export async function removeWorktree(options: RemoveOptions): Promise<RemoveResult> {
  const safe = await assertSafePath(options)
  if (!safe.exists || !safe.realPath) {
    await runGit(options.repoRoot, ['worktree', 'prune'])
    return { path: options.path, removed: false, checkout: null }
  }
  if (!options.createdByBerth && !options.force) {
    throw new ConflictError(`berth did not create ${options.path}, so it will not delete it`, {
      code: 'E_NOT_CREATED_BY_BERTH',
      hint: 'it was registered from an existing checkout; pass --force to delete it anyway, or remove it yourself',
      details: { path: options.path },
    })
  }
  if (safe.checkout === 'clone') {
    await rm(safe.realPath, { recursive: true, force: true })
    return { path: options.path, removed: true, checkout: 'clone' }
  }

  const locked = await isLocked(options.repoRoot, safe.realPath)
  if (locked && !options.force) {
    throw new ConflictError(`the worktree ${options.path} is locked`, {
      code: 'E_LOCKED',
      hint: `unlock it (git worktree unlock ${options.path}) or pass --force`,
    })
  }
  // One --force removes a worktree with changes; a second one also removes a locked worktree.
  const force = options.force ? (locked ? ['--force', '--force'] : ['--force']) : []
  const result = await runGit(options.repoRoot, ['worktree', 'remove', ...force, safe.realPath], { allowFailure: true })
  if (result.exitCode !== 0) {
    throw new ConflictError(`git could not remove the worktree ${options.path}: ${firstLine(result.stderr)}`, {
      code: 'E_REMOVE_REFUSED',
      hint: 'commit or discard the changes, or pass --force',
      details: { stderr: result.stderr.trim() },
    })
  }
  await runGit(options.repoRoot, ['worktree', 'prune'])
  return { path: options.path, removed: true, checkout: 'worktree' }
}

async function isLocked(repoRoot: string, realPath: string): Promise<boolean> {
  for (const entry of await listWorktrees(repoRoot)) {
    if (entry.locked && (entry.path === realPath || (await realPathOrNull(entry.path)) === realPath)) return true
  }
  return false
}
