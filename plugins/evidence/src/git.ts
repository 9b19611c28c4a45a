import { execFile } from 'node:child_process'

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

/** The checkout's head, branch and dirty files in one `git status --porcelain=v2 --branch -z`. */
export async function readGitState(cwd: string): Promise<GitState> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(
      'git',
      ['status', '--porcelain=v2', '--branch', '-z', '--untracked-files=all'],
      { cwd, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' } },
      (error, stdout, stderr) => (error ? reject(new Error(stderr.trim() || error.message)) : resolve(stdout)),
    )
  })
  return parseGitStatus(output)
}

/** Parses `git status --porcelain=v2 --branch -z` output. */
export function parseGitStatus(output: string): GitState {
  const state: GitState = { head: null, branch: null, upstream: null, ahead: null, behind: null, dirty: [] }
  const records = output.split('\0')
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!
    if (record === '') continue
    if (record.startsWith('# ')) {
      const [, key, ...rest] = record.split(' ')
      const value = rest.join(' ')
      if (key === 'branch.oid') state.head = value === '(initial)' ? null : value
      else if (key === 'branch.head') state.branch = value === '(detached)' ? null : value
      else if (key === 'branch.upstream') state.upstream = value
      else if (key === 'branch.ab') {
        const match = /^\+(\d+) -(\d+)$/.exec(value)
        if (match) {
          state.ahead = Number(match[1])
          state.behind = Number(match[2])
        }
      }
      continue
    }
    const kind = record[0]
    if (kind === '?' || kind === '!') {
      state.dirty.push({ status: kind === '?' ? '??' : '!!', path: record.slice(2) })
    } else if (kind === '1') {
      state.dirty.push({ status: record.slice(2, 4), path: fieldsAfter(record, 8) })
    } else if (kind === '2') {
      // A rename or copy: the original path follows as the next NUL-separated record.
      state.dirty.push({ status: record.slice(2, 4), path: fieldsAfter(record, 9) })
      i++
    } else if (kind === 'u') {
      state.dirty.push({ status: record.slice(2, 4), path: fieldsAfter(record, 10) })
    }
  }
  return state
}

/** The rest of a space-separated record after its first `count` fields (paths may hold spaces). */
function fieldsAfter(record: string, count: number): string {
  let index = 0
  for (let n = 0; n < count; n++) index = record.indexOf(' ', index) + 1
  return record.slice(index)
}
