import { type GitStatus, parseStatus, readStatus } from '@berth/git'

/** `git.json` of a bundle. */
export interface GitState {
  /** The commit checked out, or null on an unborn branch. */
  head: string | null
  /** The branch, or null when detached. */
  branch: string | null
  upstream: string | null
  ahead: number | null
  behind: number | null
  /** Changed, staged, unmerged and untracked files, with git's two-letter status (`.M`, `??`…). */
  dirty: { status: string; path: string }[]
}

function gitState(status: GitStatus): GitState {
  return {
    head: status.head,
    branch: status.branch,
    upstream: status.upstream,
    ahead: status.ahead,
    behind: status.behind,
    dirty: status.entries.map((entry) => ({ status: entry.xy, path: entry.path })),
  }
}

/** The checkout's head, branch and dirty files in one `git status` (parsed by @berth/git). */
export async function readGitState(cwd: string): Promise<GitState> {
  return gitState(await readStatus(cwd, { untrackedFiles: 'all' }))
}

/** `git.json` from `git status --porcelain=v2 --branch -z` output. */
export function parseGitStatus(output: string): GitState {
  return gitState(parseStatus(output))
}
