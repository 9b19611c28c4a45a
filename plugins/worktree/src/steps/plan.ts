import { parseFeatureName, type Step, UsageError } from '@berth/contract'
import {
  branchFlag,
  parentFolder,
  repoOf,
  requestedKind,
  requestedName,
  worktreeSection,
  worktreeState,
} from '../context.js'
import { readRef, runGit } from '../git.js'
import { planWorktree } from '../plan.js'

/** Validates the name and computes path, branch and id; sets `ctx.instance` (slot null). No side effects. */
export const planStep: Step = {
  description:
    'validate the feature name and plan ../<project>-<kind>-<slug> on branch <kind>/<name> (or the --branch given)',
  async run(ctx) {
    const kind = requestedKind(ctx)
    const name = requestedName(ctx)
    parseFeatureName(name, `${kind} name`) // exit 2 before anything else, even repository detection
    const given = branchFlag(ctx)
    const config = worktreeSection(ctx)
    const repo = await repoOf(ctx)
    if (given !== undefined) await assertBranchName(repo.root, given)
    const plan = planWorktree({ name, kind, project: ctx.config.project, parent: parentFolder(ctx, config, repo) })
    if (given !== undefined) plan.branch = given
    // berth owns the branch only when it makes it: never one given with --branch, nor an
    // impl/<name> that is already there (see the instance record's branchCreatedByBerth).
    const read = readRef(repo.root, `refs/heads/${plan.branch}`)
    const exists =
      read !== undefined
        ? read !== null
        : (
            await runGit(repo.root, ['rev-parse', '--verify', '--quiet', `refs/heads/${plan.branch}`], {
              allowFailure: true,
            })
          ).exitCode === 0
    worktreeState(ctx).existingBranch = given !== undefined
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
      branchCreatedByBerth: given === undefined && !exists,
      createdByBerth: true,
      createdAt: new Date().toISOString(),
    }
    ctx.log.debug(`planned ${plan.path} on ${plan.branch} (instance ${plan.id})`)
  },
}

/** `--branch` must be a valid branch name (git check-ref-format), else exit 2 before anything changes. */
async function assertBranchName(repoRoot: string, branch: string): Promise<void> {
  const valid =
    !branch.startsWith('-') &&
    (await runGit(repoRoot, ['check-ref-format', '--branch', branch], { allowFailure: true })).exitCode === 0
  if (!valid) {
    throw new UsageError(`--branch ${JSON.stringify(branch)} is not a valid branch name`, {
      hint: 'name a branch as git shows it, e.g. --branch feature/agent-work (not origin/feature/agent-work)',
    })
  }
}
