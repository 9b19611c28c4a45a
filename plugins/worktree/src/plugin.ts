import type { Plugin } from '@berth/contract'
import { worktreeConfigSchema } from './config.js'
import { diagnoseWorktrees } from './diagnose.js'
import { repairWorktrees } from './repair.js'
import { checkStep } from './steps/check.js'
import { createStep } from './steps/create.js'
import { listStep } from './steps/list.js'
import { planStep } from './steps/plan.js'
import { removeStep } from './steps/remove.js'

/** Matches package.json (a test keeps them equal). */
export const WORKTREE_PLUGIN_VERSION = '0.1.0'

// biome-ignore lint/complexity/noBannedTypes: no options yet; the factory signature is the contract's
export type WorktreePluginOptions = {}

/** The `berth:worktree` plugin: steps worktree.plan/create/check/remove/list, config section `worktree`. */
export function worktreePlugin(_options: WorktreePluginOptions = {}): Plugin {
  return {
    name: 'berth:worktree',
    version: WORKTREE_PLUGIN_VERSION,
    config: { worktree: worktreeConfigSchema },
    diagnose: diagnoseWorktrees,
    repair: repairWorktrees,
    steps: {
      plan: planStep,
      create: createStep,
      check: checkStep,
      remove: removeStep,
      list: listStep,
    },
  }
}
