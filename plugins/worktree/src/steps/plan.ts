import { parseFeatureName, type Step } from '@berth/contract'
import { parentFolder, repoOf, requestedKind, requestedName, worktreeSection, worktreeState } from '../context.js'
import { planWorktree } from '../plan.js'

/** Validates the name and computes path, branch and id; sets `ctx.instance` (slot null). No side effects. */
export const planStep: Step = {
  description: 'validate the feature name and plan ../<project>-<kind>-<slug> on branch <kind>/<name>',
  async run(ctx) {
    const kind = requestedKind(ctx)
    const name = requestedName(ctx)
    parseFeatureName(name, `${kind} name`) // exit 2 before anything else, even repository detection
    const config = worktreeSection(ctx)
    const repo = await repoOf(ctx)
    const plan = planWorktree({ name, kind, project: ctx.config.project, parent: parentFolder(ctx, config, repo) })
    worktreeState(ctx).plan = plan
    ctx.instance = {
      id: plan.id,
      name: plan.typed,
      project: ctx.config.project,
      kind,
      slot: null,
      path: plan.path,
      repo: repo.root,
      branch: plan.branch,
      createdByBerth: true,
      createdAt: new Date().toISOString(),
    }
    ctx.log.debug(`planned ${plan.path} on ${plan.branch} (instance ${plan.id})`)
  },
}
