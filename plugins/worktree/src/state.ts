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
  // GIT_OPTIONAL_LOCKS=0: a status refresh must not take index.lock from a git the user is running.
  const status = await runGit(path, ['status', '--porcelain=v2', '--branch', '-z'], {
    env: { GIT_OPTIONAL_LOCKS: '0' },
  })
  const parsed = parseStatusV2(status.stdout)
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
  dirty: string[]
}

/** Parses `git status --porcelain=v2 --branch -z` into branch facts and v1-style `XY path` lines. */
export function parseStatusV2(text: string): ParsedStatus {
  const records = text.split('\0')
  const result: ParsedStatus = { branch: null, upstream: null, upstreamGone: true, hasCommits: true, dirty: [] }
  let aheadBehindSeen = false
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? ''
    if (record.length === 0) continue
    if (record.startsWith('# ')) {
      const [key, ...rest] = record.slice(2).split(' ')
      const value = rest.join(' ')
      if (key === 'branch.head') result.branch = value === '(detached)' ? null : value
      else if (key === 'branch.upstream') result.upstream = value
      else if (key === 'branch.ab') aheadBehindSeen = true
      else if (key === 'branch.oid') result.hasCommits = value !== '(initial)'
      continue
    }
    const kind = record[0]
    if (kind === '?') result.dirty.push(`?? ${record.slice(2)}`)
    else if (kind === '1') result.dirty.push(`${xy(record)} ${fieldsFrom(record, 8)}`)
    else if (kind === 'u') result.dirty.push(`${xy(record)} ${fieldsFrom(record, 10)}`)
    else if (kind === '2') {
      // A rename/copy record is followed by a separate record holding the original path.
      const original = records[++i] ?? ''
      result.dirty.push(`${xy(record)} ${original} -> ${fieldsFrom(record, 9)}`)
    }
  }
  // `branch.ab` is printed only when the upstream's remote-tracking branch exists.
  result.upstreamGone = result.upstream !== null && !aheadBehindSeen
  return result
}

function xy(record: string): string {
  return record.slice(2, 4).replaceAll('.', ' ')
}

/** The rest of a space-separated record after `count` fields (paths may contain spaces). */
function fieldsFrom(record: string, count: number): string {
  let index = 0
  for (let seen = 0; seen < count; seen++) index = record.indexOf(' ', index) + 1
  return record.slice(index)
}

async function remoteHeadBranch(path: string, remote: string): Promise<string | null> {
  const prefix = `refs/remotes/${remote}/`
  const result = await runGit(path, ['symbolic-ref', '--quiet', `${prefix}HEAD`], { allowFailure: true })
  const target = firstLine(result.stdout)
  return result.exitCode === 0 && target.startsWith(prefix) ? target.slice(prefix.length) : null
}
