import { OperationError, type Step } from '@berth/contract'
import { fromFlag, instanceOf, repoOf, worktreeSection, worktreeState } from '../context.js'
import { copyLocalFiles } from '../copy-local.js'
import { createWorktree, undoCreateWorktree } from '../create.js'

/** Creates the planned worktree; undo removes it and the branch if this run created the branch. */
export const createStep: Step = {
  description: 'fetch, then git worktree add the planned folder on its branch (reused when it exists)',
  async run(ctx) {
    const state = worktreeState(ctx)
    const target = state.plan ?? instanceOf(ctx, 'worktree.create')
    const branch = target.branch
    if (!branch) throw new OperationError('worktree.create: the planned instance has no branch')
    const config = worktreeSection(ctx)
    const repo = await repoOf(ctx)
    const created = await createWorktree({
      repoRoot: repo.root,
      path: target.path,
      branch,
      from: fromFlag(ctx),
      existingBranch: state.existingBranch === true,
      baseBranch: config.baseBranch,
      remote: config.remote,
      fetch: config.fetch,
      fetchMaxAge: config.fetchMaxAge,
      log: ctx.log,
      signal: ctx.signal,
    })
    state.created = created
    // Inside the new worktree: undo removes them with it.
    await copyLocalFiles(repo.root, created.path, config.copy, ctx.log)
    ctx.output.worktree = {
      path: created.path,
      branch: created.branch,
      head: created.head,
      startPoint: created.startPoint,
      reusedBranch: !created.createdBranch,
    }
  },
  async undo(ctx) {
    const state = worktreeState(ctx)
    if (!state.created) return
    const repo = await repoOf(ctx)
    await undoCreateWorktree(repo.root, state.created, ctx.log)
    ctx.log.info(
      `removed worktree ${state.created.path}${state.created.createdBranch ? ` and branch ${state.created.branch}` : ''}`,
    )
    delete state.created
  },
}
