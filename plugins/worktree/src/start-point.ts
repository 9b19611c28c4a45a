import { type Logger, UsageError } from '@berth/contract'
import { remoteDefaultBranch } from './base.js'
import { firstLine, readRef, runGit } from './git.js'

/** The commit a new branch starts from, and the name it was reached by. */
export interface StartPoint {
  name: string
  commit: string
}

/**
 * `--from` (must name a commit, else UsageError), else `<remote>/<base>` (configured base or the
 * remote's default branch), else the configured base branch locally, else HEAD with a warning.
 */
/** What the start point depends on (a part of createWorktree's options). */
export interface StartPointOptions {
  repoRoot: string
  remote: string
  /** `--from REF`. */
  from?: string | undefined
  /** Configured base branch (else the remote's default branch). */
  baseBranch?: string | null | undefined
  /** Ask the remote for its default branch. */
  fetch: boolean
  signal?: AbortSignal | undefined
  log: Logger
}

export async function resolveStartPoint(options: StartPointOptions, hasRemote: boolean): Promise<StartPoint> {
  const { repoRoot, remote, log } = options
  if (options.from !== undefined) {
    const from = options.from
    const commit = from.startsWith('-') ? null : await commitOf(repoRoot, from)
    if (!commit) {
      throw new UsageError(`--from ${JSON.stringify(from)} is not a commit, tag or branch of ${repoRoot}`, {
        hint: `check the name with \`git rev-parse ${from}\`; a branch that exists only on ${remote} is ${remote}/<branch>`,
      })
    }
    return { name: from, commit }
  }
  if (hasRemote) {
    const base =
      options.baseBranch ??
      (await remoteDefaultBranch(repoRoot, remote, { query: options.fetch, signal: options.signal }))?.name
    const tracking = base ? await commitOf(repoRoot, `refs/remotes/${remote}/${base}`) : null
    if (base && tracking) return { name: `${remote}/${base}`, commit: tracking }
  }
  if (options.baseBranch) {
    const local = await commitOf(repoRoot, `refs/heads/${options.baseBranch}`)
    if (local) return { name: options.baseBranch, commit: local }
  }
  const head = await commitOf(repoRoot, 'HEAD')
  if (!head) {
    throw new UsageError(`${repoRoot} has no commits yet`, { hint: 'make a first commit, then try again' })
  }
  const why = hasRemote ? `the default branch of ${remote} is unknown` : `the repository has no remote ${remote}`
  log.warn(`${why}: starting from the local HEAD (${head.slice(0, 12)}); pass --from REF to choose`)
  return { name: 'HEAD', commit: head }
}

/**
 * The commit a ref names, or null. A branch or remote-tracking ref is read from the files (git
 * lets those name commits only); anything else (a tag, `HEAD~2`, a commit id) asks git.
 */
export async function commitOf(repoRoot: string, ref: string): Promise<string | null> {
  const read = readRef(repoRoot, ref)
  if (read !== undefined) return read?.target ?? null
  const result = await runGit(repoRoot, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { allowFailure: true })
  return result.exitCode === 0 ? firstLine(result.stdout) || null : null
}
