import { configRemotes, firstLine, outputLines, readRef, runGit } from './git.js'

/** Where the base branch name came from. */
export type BaseBranchSource = 'config' | 'remote-head' | 'remote-query' | 'local-head' | 'none'

export interface BaseBranch {
  /** Branch name without remote prefix (`main`), or null when none could be found. */
  name: string | null
  source: BaseBranchSource
}

/** The names of the repository's remotes (`git remote`). */
export async function listRemotes(repo: string): Promise<string[]> {
  return outputLines((await runGit(repo, ['remote'])).stdout)
}

/**
 * Whether the repository has the remote: its own config answers when it names it (no process,
 * issue 16); else `git remote`, which also reads the user's and the system's config.
 */
export async function hasRemote(repo: string, remote: string): Promise<boolean> {
  if (configRemotes(repo)?.includes(remote)) return true
  return (await listRemotes(repo)).includes(remote)
}

/**
 * The remote's default branch as this repository knows it: `refs/remotes/<remote>/HEAD`
 * (set by `git clone`). With `query`, asks the remote itself (`git ls-remote --symref`) when that
 * ref is missing. Null when neither answers.
 */
export async function remoteDefaultBranch(
  repo: string,
  remote: string,
  options: { query?: boolean; signal?: AbortSignal | undefined } = {},
): Promise<{ name: string; source: 'remote-head' | 'remote-query' } | null> {
  const prefix = `refs/remotes/${remote}/`
  const read = readRef(repo, `${prefix}HEAD`)
  if (read?.symbolic?.startsWith(prefix)) return { name: read.symbolic.slice(prefix.length), source: 'remote-head' }
  const local = await runGit(repo, ['symbolic-ref', '--quiet', `${prefix}HEAD`], { allowFailure: true })
  const target = firstLine(local.stdout)
  if (local.exitCode === 0 && target.startsWith(prefix))
    return { name: target.slice(prefix.length), source: 'remote-head' }
  if (!options.query) return null
  const asked = await runGit(repo, ['ls-remote', '--symref', remote, 'HEAD'], {
    allowFailure: true,
    signal: options.signal,
    timeout: REMOTE_TIMEOUT_MS,
  })
  const match = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(asked.stdout)
  return asked.exitCode === 0 && match?.[1] ? { name: match[1], source: 'remote-query' } : null
}

/** The branch checked out in `checkout`, or null when its HEAD is detached. */
export async function currentBranch(checkout: string): Promise<string | null> {
  const result = await runGit(checkout, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFailure: true })
  return result.exitCode === 0 ? firstLine(result.stdout) || null : null
}

/**
 * The base branch: the configured one, else the remote's default branch, else the branch checked
 * out in the main checkout.
 */
export async function resolveBaseBranch(
  repoRoot: string,
  options: { baseBranch?: string | undefined; remote: string; query?: boolean; signal?: AbortSignal | undefined },
): Promise<BaseBranch> {
  if (options.baseBranch) return { name: options.baseBranch, source: 'config' }
  if (await hasRemote(repoRoot, options.remote)) {
    const found = await remoteDefaultBranch(repoRoot, options.remote, { query: options.query, signal: options.signal })
    if (found) return found
  }
  const local = await currentBranch(repoRoot)
  return local ? { name: local, source: 'local-head' } : { name: null, source: 'none' }
}

/** How long a fetch or remote query may take before berth gives up on it and warns. */
export const REMOTE_TIMEOUT_MS = 120_000
