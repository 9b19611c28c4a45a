import { runGit } from './git.js'

/** One entry of `git worktree list --porcelain`. */
export interface WorktreeEntry {
  path: string
  /** Commit checked out; null for a bare entry. */
  head: string | null
  /** Short branch name (`impl/x`); null when detached or bare. */
  branch: string | null
  detached: boolean
  bare: boolean
  locked: boolean
  lockedReason: string | null
  /** The folder is gone; `git worktree prune` would drop the entry. */
  prunable: boolean
  prunableReason: string | null
  /** The first entry: the main checkout. */
  main: boolean
}

/** Every worktree of the repository at `repoRoot` (main checkout first), in one git call. */
export async function listWorktrees(repoRoot: string): Promise<WorktreeEntry[]> {
  const result = await runGit(repoRoot, ['worktree', 'list', '--porcelain'])
  return parseWorktreeList(result.stdout)
}

/** Parses `git worktree list --porcelain` (blocks of `key value` lines separated by blank lines). */
export function parseWorktreeList(text: string): WorktreeEntry[] {
  const entries: WorktreeEntry[] = []
  let current: WorktreeEntry | null = null
  for (const line of text.split('\n')) {
    if (line.startsWith('worktree ')) {
      current = emptyEntry(line.slice('worktree '.length), entries.length === 0)
      entries.push(current)
      continue
    }
    if (!current || line.length === 0) continue
    const space = line.indexOf(' ')
    const key = space < 0 ? line : line.slice(0, space)
    const value = space < 0 ? null : line.slice(space + 1)
    switch (key) {
      case 'HEAD':
        current.head = value
        break
      case 'branch':
        current.branch = value?.replace(/^refs\/heads\//, '') ?? null
        break
      case 'detached':
        current.detached = true
        break
      case 'bare':
        current.bare = true
        break
      case 'locked':
        current.locked = true
        current.lockedReason = value
        break
      case 'prunable':
        current.prunable = true
        current.prunableReason = value
        break
    }
  }
  return entries
}

function emptyEntry(path: string, main: boolean): WorktreeEntry {
  return {
    path,
    head: null,
    branch: null,
    detached: false,
    bare: false,
    locked: false,
    lockedReason: null,
    prunable: false,
    prunableReason: null,
    main,
  }
}
