import { defineOutput, defineStep, instanceLabel, lazySchema, table } from '@berth/contract'
import * as z from 'zod'
import { resolveBaseBranch } from '../base.js'
import { repoOf, worktreeSection } from '../context.js'
import { describeWorktrees, type WorktreeListing, worktreeListingSchema } from '../describe.js'

/** `output.worktrees` (`berth worktrees`): every worktree and registered clone, with its state. */
export const worktreesOutput = defineOutput(
  'worktrees',
  lazySchema(() => z.array(worktreeListingSchema)),
  {
    description:
      'every worktree and registered clone of the repository: kind, branch, instance, slot, uncommitted and unpushed work',
    render: (rows) =>
      table([
        ['KIND', 'BRANCH', 'SLOT', 'STATE', 'INSTANCE', 'PATH'],
        ...rows.map((w) => [
          w.main ? 'main' : w.kind,
          w.branch ?? '(detached)',
          w.slot === null ? '-' : String(w.slot),
          [
            w.dirty.length ? `${w.dirty.length} uncommitted` : '',
            w.unpushed.length ? `${w.unpushed.length} unpushed` : '',
          ]
            .filter(Boolean)
            .join(', ') || 'clean',
          w.id ? instanceLabel({ id: w.id, name: w.name ?? undefined }) : '-',
          w.path,
        ]),
      ]),
  },
)

/** Lists every worktree (and registered clone) of the repository in `ctx.output.worktrees`. Read-only. */
export const listStep = defineStep({
  description: 'list worktrees with kind, branch, slot and dirty/unpushed state',
  outputs: [worktreesOutput],
  async run(ctx) {
    const config = worktreeSection(ctx)
    const repo = await repoOf(ctx)
    const base = await resolveBaseBranch(repo.root, { baseBranch: config.baseBranch, remote: config.remote })
    const instances = (await ctx.services.listInstances?.()) ?? []
    const rows = await describeWorktrees(repo.root, { instances, baseBranch: base.name, remote: config.remote })
    ctx.output.worktrees = rows
  },
})

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
