import { type GitStatus, parseStatus, readStatus } from '@berth/git'
import { firstLine, runGit } from './git.js'

/** A commit that exists only in this checkout's branch. */
export interface UnpushedCommit {
  sha: string
  subject: string
}

/** What removing a checkout would lose. */
export interface WorkState {
  /** `git status --porcelain` lines (`XY path`), untracked files included. */
  dirty: string[]
  /** Commits neither on the upstream nor merged into the base branch, newest first. */
  unpushed: UnpushedCommit[]
  /** The upstream (`origin/impl/x`), or null when the branch has none. */
  upstream: string | null
  /** True when the upstream is configured but its remote-tracking branch no longer exists. */
  upstreamGone: boolean
  /** Checked-out branch, or null when detached. */
  branch: string | null
  /** The base branch the commits were measured against, or null when none was known. */
  baseBranch: string | null
}

export interface WorkStateOptions {
  /** Branch name (`main`): commits merged into it, locally or on the remote, are safe. */
  baseBranch?: string | null | undefined
  /** Remote whose `<remote>/<base>` counts as merged, and whose HEAD names the base when none is given. */
  remote?: string
}

/**
 * Uncommitted and unpushed work in the checkout at `path`. "Unpushed" = reachable from HEAD but
 * neither from the upstream nor from the base branch (local `refs/heads/<base>` or
 * `refs/remotes/<remote>/<base>`): a branch without upstream whose commits are all merged has
 * nothing unpushed. With neither upstream nor base, every remote-tracking branch counts as safe.
 * Two git calls (three when the base must be looked up).
 */
export async function workState(path: string, options: WorkStateOptions = {}): Promise<WorkState> {
  const remote = options.remote ?? 'origin'
  const parsed = statusFacts(await readStatus(path))
  const baseBranch = options.baseBranch ?? (await remoteHeadBranch(path, remote))

  const exclude: string[] = []
  if (parsed.upstream && !parsed.upstreamGone) exclude.push('@{upstream}')
  if (baseBranch) exclude.push(`refs/heads/${baseBranch}`, `refs/remotes/${remote}/${baseBranch}`)
  if (exclude.length === 0) exclude.push('--remotes')
  const unpushed: UnpushedCommit[] = []
  if (parsed.hasCommits) {
    // --ignore-missing: a base that exists only locally (or only on the remote) is fine.
    const log = await runGit(path, ['log', '--ignore-missing', '--format=%H%x09%s', 'HEAD', '--not', ...exclude, '--'])
    for (const line of log.stdout.split('\n')) {
      const tab = line.indexOf('\t')
      if (tab > 0) unpushed.push({ sha: line.slice(0, tab), subject: line.slice(tab + 1) })
    }
  }
  return {
    dirty: parsed.dirty,
    unpushed,
    upstream: parsed.upstream,
    upstreamGone: parsed.upstreamGone,
    branch: parsed.branch,
    baseBranch: baseBranch ?? null,
  }
}

export interface ParsedStatus {
  branch: string | null
  upstream: string | null
  upstreamGone: boolean
  /** False on an unborn branch (no commit yet). */
  hasCommits: boolean
  /** v1-style `XY path` lines (`XY from -> path` for a rename). */
  dirty: string[]
}

/** What removing a checkout needs of its status (parsed by @berth/git, the one status parser). */
function statusFacts(status: GitStatus): ParsedStatus {
  return {
    branch: status.branch,
    upstream: status.upstream,
    upstreamGone: status.upstreamGone,
    hasCommits: status.head !== null,
    dirty: status.entries
      .filter((entry) => entry.xy !== '!!')
      .map(
        (entry) =>
          `${entry.xy.replaceAll('.', ' ')} ${entry.from !== undefined ? `${entry.from} -> ` : ''}${entry.path}`,
      ),
  }
}

/** Parses `git status --porcelain=v2 --branch -z` into branch facts and v1-style `XY path` lines. */
export function parseStatusV2(text: string): ParsedStatus {
  return statusFacts(parseStatus(text))
}

async function remoteHeadBranch(path: string, remote: string): Promise<string | null> {
  const prefix = `refs/remotes/${remote}/`
  const result = await runGit(path, ['symbolic-ref', '--quiet', `${prefix}HEAD`], { allowFailure: true })
  const target = firstLine(result.stdout)
  return result.exitCode === 0 && target.startsWith(prefix) ? target.slice(prefix.length) : null
}
