import type { Step } from '@berth/contract'
import { resolveBaseBranch } from '../base.js'
import { forced, instanceOf, keepsFolder, parentFolder, repoOf, worktreeSection, worktreeState } from '../context.js'
import { assertRemovable, describeLoss } from '../guards.js'

/** Refuses (exit 3) to remove unsafe paths always, and dirty/unpushed/foreign checkouts unless --force. Read-only. */
export const checkStep: Step = {
  description: 'refuse removal of uncommitted or unpushed work (unless --force) and of paths berth does not own',
  async run(ctx) {
    const instance = instanceOf(ctx, 'worktree.check')
    if (keepsFolder(instance)) {
      ctx.log.debug(`${instance.path} is local-prod: its folder is kept, so there is nothing to check`)
      return
    }
    const config = worktreeSection(ctx)
    const repo = await repoOf(ctx)
    const force = forced(ctx)
    const base = await resolveBaseBranch(repo.root, { baseBranch: config.baseBranch, remote: config.remote })
    const check = await assertRemovable({
      path: instance.path,
      repoRoot: repo.root,
      parent: parentFolder(ctx, config, repo),
      remote: config.remote,
      createdByBerth: instance.createdByBerth,
      force,
      baseBranch: base.name,
    })
    worktreeState(ctx).check = check
    if (!check.exists) {
      ctx.log.info(`${instance.path} no longer exists: nothing to check`)
      return
    }
    if (force && !instance.createdByBerth)
      ctx.log.warn(`--force: removing ${instance.path}, which berth did not create`)
    const state = check.state
    if (state && (state.dirty.length > 0 || state.unpushed.length > 0)) {
      ctx.log.warn(`--force: ${describeLoss(instance.path, state)}`)
    }
    ctx.output.workState = state ? { dirty: state.dirty, unpushed: state.unpushed, upstream: state.upstream } : null
  },
}
