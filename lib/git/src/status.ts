import { runGit } from './run.js'

/** One changed, staged, unmerged, untracked or ignored path of `git status`. */
export interface StatusEntry {
  /** git's two letters, `.` for unchanged (`.M`, `M.`, `UU`), `??` untracked, `!!` ignored. */
  xy: string
  path: string
  /** The original path of a rename or copy. */
  from?: string
}

/** `git status --porcelain=v2 --branch -z`, parsed: branch facts and every entry. */
export interface GitStatus {
  /** The commit checked out, or null on an unborn branch. */
  head: string | null
  /** The branch, or null when detached. */
  branch: string | null
  upstream: string | null
  /** Commits ahead of / behind the upstream; null without an upstream whose branch exists. */
  ahead: number | null
  behind: number | null
  /** The upstream is configured but its remote-tracking branch no longer exists. */
  upstreamGone: boolean
  entries: StatusEntry[]
}

/** Parses `git status --porcelain=v2 --branch -z` output: the one status parser. */
export function parseStatus(output: string): GitStatus {
  const status: GitStatus = {
    head: null,
    branch: null,
    upstream: null,
    ahead: null,
    behind: null,
    upstreamGone: false,
    entries: [],
  }
  let aheadBehindSeen = false
  const records = output.split('\0')
  for (let i = 0; i < records.length; i++) {
    const record = records[i] ?? ''
    if (record === '') continue
    if (record.startsWith('# ')) {
      const [key, ...rest] = record.slice(2).split(' ')
      const value = rest.join(' ')
      if (key === 'branch.oid') status.head = value === '(initial)' ? null : value
      else if (key === 'branch.head') status.branch = value === '(detached)' ? null : value
      else if (key === 'branch.upstream') status.upstream = value
      else if (key === 'branch.ab') {
        aheadBehindSeen = true
        const match = /^\+(\d+) -(\d+)$/.exec(value)
        if (match) {
          status.ahead = Number(match[1])
          status.behind = Number(match[2])
        }
      }
      continue
    }
    const kind = record[0]
    if (kind === '?' || kind === '!') status.entries.push({ xy: kind === '?' ? '??' : '!!', path: record.slice(2) })
    else if (kind === '1') status.entries.push({ xy: record.slice(2, 4), path: fieldsAfter(record, 8) })
    else if (kind === 'u') status.entries.push({ xy: record.slice(2, 4), path: fieldsAfter(record, 10) })
    else if (kind === '2') {
      // A rename or copy: the original path follows as the next NUL-separated record.
      const from = records[++i] ?? ''
      status.entries.push({ xy: record.slice(2, 4), path: fieldsAfter(record, 9), from })
    }
  }
  // `branch.ab` is printed only when the upstream's remote-tracking branch exists.
  status.upstreamGone = status.upstream !== null && !aheadBehindSeen
  return status
}

/** The rest of a space-separated record after its first `count` fields (paths may hold spaces). */
function fieldsAfter(record: string, count: number): string {
  let index = 0
  for (let n = 0; n < count; n++) index = record.indexOf(' ', index) + 1
  return record.slice(index)
}

/**
 * `git status --porcelain=v2 --branch -z` of the checkout at `dir`, parsed. GIT_OPTIONAL_LOCKS=0:
 * a status refresh never takes index.lock from a git the user is running.
 */
export async function readStatus(dir: string, options: { untrackedFiles?: 'normal' | 'all' } = {}): Promise<GitStatus> {
  const args = ['status', '--porcelain=v2', '--branch', '-z']
  if (options.untrackedFiles) args.push(`--untracked-files=${options.untrackedFiles}`)
  const result = await runGit(dir, args, { env: { GIT_OPTIONAL_LOCKS: '0' } })
  return parseStatus(result.stdout)
}
