import type { Step } from '@berth/contract'
import { resolveBaseBranch } from '../base.js'
import { repoOf, worktreeSection } from '../context.js'
import { describeWorktrees, type WorktreeListing } from '../describe.js'

/** Lists every worktree (and registered clone) of the repository in `ctx.output.worktrees`. Read-only. */
export const listStep: Step = {
  description: 'list worktrees with kind, branch, slot and dirty/unpushed state',
  async run(ctx) {
    const config = worktreeSection(ctx)
    const repo = await repoOf(ctx)
    const base = await resolveBaseBranch(repo.root, { baseBranch: config.baseBranch, remote: config.remote })
    const instances = (await ctx.services.listInstances?.()) ?? []
    const rows = await describeWorktrees(repo.root, { instances, baseBranch: base.name, remote: config.remote })
    ctx.output.worktrees = rows
  },
}

/** One human line: `impl  impl/x  slot 1  2 dirty, 1 unpushed  /path`. */
export function formatListing(row: WorktreeListing): string {
  const kind = row.main ? 'main' : row.kind
  const branch = row.branch ?? (row.head ? `(detached ${row.head.slice(0, 7)})` : '-')
  const slot = row.slot === null ? '-' : `slot ${row.slot}`
  const notes: string[] = []
  if (row.missing) notes.push('missing')
  if (row.locked) notes.push('locked')
  if (row.dirty.length > 0) notes.push(`${row.dirty.length} uncommitted`)
  if (row.unpushed.length > 0) notes.push(`${row.unpushed.length} unpushed`)
  return [kind.padEnd(5), branch.padEnd(24), slot.padEnd(7), (notes.join(', ') || 'clean').padEnd(24), row.path].join(
    ' ',
  )
}
