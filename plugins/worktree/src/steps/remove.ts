import type { Step } from '@berth/contract'
import { forced, instanceOf, keepsFolder, parentFolder, repoOf, worktreeSection, worktreeState } from '../context.js'
import { removeWorktree } from '../remove.js'

/**
 * Removes the recorded worktree (or a clone berth created); the branch stays. No undo: a deleted
 * working tree cannot be put back, which is why worktree.check runs first and the branch is kept
 * (`berth impl <name>` reuses it).
 */
export const removeStep: Step = {
  description: 'git worktree remove the recorded path and prune (the branch stays)',
  effect: 'write',
  plan: (ctx) =>
    `remove the folder ${ctx.instance?.path ?? '?'}${ctx.instance?.branch ? ` (branch ${ctx.instance.branch} is kept)` : ''}`,
  async run(ctx) {
    const instance = instanceOf(ctx, 'worktree.remove')
    if (keepsFolder(instance)) {
      ctx.log.info(`kept ${instance.path}: local-prod is your clone, berth never deletes it`)
      ctx.output.removed = { path: instance.path, removed: false, checkout: null }
      return
    }
    const config = worktreeSection(ctx)
    const repo = await repoOf(ctx)
    const result = await removeWorktree({
      path: instance.path,
      repoRoot: repo.root,
      parent: parentFolder(ctx, config, repo),
      remote: config.remote,
      createdByBerth: instance.createdByBerth,
      force: forced(ctx),
    })
    worktreeState(ctx).removed = result
    ctx.output.removed = result
    if (!result.removed) ctx.log.info(`${instance.path} was already gone; pruned stale worktree entries`)
    else
      ctx.log.info(
        `removed ${result.checkout} ${instance.path}${instance.branch ? ` (branch ${instance.branch} kept)` : ''}`,
      )
  },
}
