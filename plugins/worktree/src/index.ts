export { type BaseBranch, type BaseBranchSource, listRemotes, remoteDefaultBranch, resolveBaseBranch } from './base.js'
export { type CheckoutType, checkoutType, detectCheckout } from './checkout.js'
export {
  defaultWorktreeConfig,
  resolveParent,
  type WorktreeConfig,
  type WorktreeConfigInput,
  worktreeConfigSchema,
} from './config.js'
export type { WorktreeState } from './context.js'
export { type CreatedWorktree, type CreateWorktreeOptions, createWorktree, undoCreateWorktree } from './create.js'
export { type DescribeOptions, describeWorktrees, type WorktreeListing, worktreeListingSchema } from './describe.js'
export { type GitOptions, type GitResult, runGit } from './git.js'
export {
  assertRemovable,
  assertSafePath,
  describeLoss,
  type RemovableOptions,
  type RemovalCheck,
  type RemovalTarget,
  type SafePath,
} from './guards.js'
export { listWorktrees, parseWorktreeList, type WorktreeEntry } from './list.js'
export { type PlanRequest, planWorktree, type WorktreeKind, type WorktreePlan } from './plan.js'
export { WORKTREE_PLUGIN_VERSION, type WorktreePluginOptions, worktreePlugin } from './plugin.js'
export { type RemoveOptions, type RemoveResult, removeWorktree } from './remove.js'
export { resolveStartPoint, type StartPoint } from './start-point.js'
export {
  type ParsedStatus,
  parseStatusV2,
  type UnpushedCommit,
  type WorkState,
  type WorkStateOptions,
  workState,
} from './state.js'
export { formatListing } from './steps/list.js'
