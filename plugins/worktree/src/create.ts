import { statSync } from 'node:fs'
import { mkdir, rm, rmdir } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { ConflictError, InterruptedError, type Logger, OperationError, UsageError } from '@berth/contract'
import { REMOTE_TIMEOUT_MS, hasRemote as repoHasRemote } from './base.js'
import { discoverGitDirs, firstLine, readRef, runGit } from './git.js'
import { listWorktrees } from './list.js'
import { realPathOrNull } from './paths.js'
import { pathTaken } from './plan.js'
import { resolveStartPoint } from './start-point.js'

/** What git says when another `worktree add` in the same repository is half-way through. */
const CONCURRENT_ADD_RACE =
  /failed to read .*worktrees\/[^/]+\/(commondir|gitdir)|worktrees\/[^/]+\/[a-z]+\.lock': File exists/

export interface CreateWorktreeOptions {
  /** Main checkout; every git command runs with `-C repoRoot`. */
  repoRoot: string
  /** Absolute folder for the new worktree (must not exist). */
  path: string
  /** Branch to check out there; reused when it exists, else created. */
  branch: string
  /**
   * `--branch`: the branch must exist, locally or as `<remote>/<branch>` (then a local branch
   * tracking it is made); a branch found nowhere is a usage error, never created from the base.
   */
  existingBranch?: boolean | undefined
  /** `--from REF`: commit, tag or branch to start a new branch from. */
  from?: string | undefined
  /** Configured base branch (else the remote's default branch). */
  baseBranch?: string | undefined
  remote: string
  /** Fetch the remote first. */
  fetch: boolean
  /** Seconds: no fetch when the last one (FETCH_HEAD) is younger; 0 fetches every time. */
  fetchMaxAge?: number | undefined
  log: Logger
  signal?: AbortSignal | undefined
}

/** What `createWorktree` changed, so that `undoCreateWorktree` can reverse exactly that. */
export interface CreatedWorktree {
  path: string
  branch: string
  /** True when the branch was created by this call (undo deletes it); false when reused. */
  createdBranch: boolean
  /** What the branch started from (`origin/main`, `v1.2`, `HEAD`); null when an existing branch was reused. */
  startPoint: string | null
  /** The commit checked out. */
  head: string
  /** Folders created to hold the worktree (outermost first), removed by undo when empty. */
  createdFolders: string[]
}

/**
 * Creates a linked worktree at `path` on `branch`: fetches the remote (a failed fetch is a
 * warning), reuses the branch when it exists or creates it (without upstream tracking) from
 * `--from`, else the remote's default branch, else the local HEAD (with a warning), then runs
 * `git worktree add`. On failure it removes what it created before rethrowing.
 */
export async function createWorktree(options: CreateWorktreeOptions): Promise<CreatedWorktree> {
  const { repoRoot, path, branch, log } = options
  const git = (args: string[], allowFailure = false) => runGit(repoRoot, args, { allowFailure, signal: options.signal })
  const stopIfInterrupted = () => {
    if (options.signal?.aborted) throw new InterruptedError()
  }
  const hasRemote = await repoHasRemote(repoRoot, options.remote)
  if (hasRemote && options.fetch) {
    const age = lastFetchAge(repoRoot)
    if (age !== null && age < (options.fetchMaxAge ?? 0)) {
      log.debug(`not fetching ${options.remote}: fetched ${Math.round(age)} s ago (worktree.fetchMaxAge)`)
    } else {
      log.debug(`fetching ${options.remote}`)
      await fetchRemote(options)
      stopIfInterrupted()
    }
  }

  const existing = await branchCommit(repoRoot, branch, options.signal)
  let startPoint: string | null = null
  let head: string
  let trackRemote = false
  if (existing !== null) {
    head = existing
    if (options.from) log.warn(`branch ${branch} already exists: reusing it, --from ${options.from} is ignored`)
    else log.info(`reusing existing branch ${branch} (at ${head.slice(0, 12)})`)
    await assertBranchFree(repoRoot, branch)
  } else if (options.existingBranch) {
    const remoteRef = `refs/remotes/${options.remote}/${branch}`
    const tracked = await git(['rev-parse', '--verify', '--quiet', `${remoteRef}^{commit}`], true)
    if (tracked.exitCode !== 0) {
      throw new UsageError(`branch ${branch} exists neither locally nor on ${options.remote}`, {
        code: 'E_NO_BRANCH',
        hint: `check the name with \`git branch -a\`; push it first, or drop --branch to create a new branch`,
        details: { branch },
      })
    }
    startPoint = `${options.remote}/${branch}`
    head = firstLine(tracked.stdout)
    trackRemote = true
  } else {
    const start = await resolveStartPoint(options, hasRemote)
    startPoint = start.name
    head = start.commit
  }
  if (pathTaken(path)) {
    throw new ConflictError(`${path} already exists`, { code: 'E_PATH_EXISTS', hint: 'pick another name' })
  }

  stopIfInterrupted()
  const createdFolders = await createParentFolders(path)
  let createdBranch = false
  // Recorded before `git worktree add` starts: the folder is this run's unless git says another
  // run had made it first (two creates racing); an interrupted add is always ours to remove.
  let ownTree = false
  try {
    // Recorded before git runs: an add stopped half-way may have made the branch, and the
    // rollback must then delete it (it did not exist a moment ago).
    createdBranch = startPoint !== null
    stopIfInterrupted()
    ownTree = true
    // One git process makes the branch and its worktree (`worktree add -b`); a branch only the
    // remote has is checked out as a local branch tracking it, so its commits push back there and
    // `done` measures unpushed work against it. A new branch from the base does not track.
    const add = (makeBranch: boolean) =>
      git(
        makeBranch
          ? [
              'worktree',
              'add',
              trackRemote ? '--track' : '--no-track',
              '-b',
              branch,
              path,
              trackRemote ? `${options.remote}/${branch}` : head,
            ]
          : ['worktree', 'add', path, branch],
        true,
      )
    let added = await add(startPoint !== null)
    // Concurrent `git worktree add`s in one repository race: git reads every other worktree's
    // admin folder, which another add may have created but not filled yet ("failed to read
    // .git/worktrees/<other>/commondir"). That is transient; try again after a short pause (the
    // branch may already be made by the attempt that failed).
    for (let attempt = 1; added.exitCode !== 0 && CONCURRENT_ADD_RACE.test(added.stderr) && attempt <= 8; attempt++) {
      if (pathTaken(path)) await rm(path, { recursive: true, force: true })
      await new Promise((resolve) => setTimeout(resolve, 50 * attempt + Math.random() * 100))
      added = await add(startPoint !== null && (await branchCommit(repoRoot, branch, options.signal)) === null)
    }
    if (added.exitCode !== 0 && startPoint !== null && /a branch named .* already exists/.test(added.stderr)) {
      stopIfInterrupted()
      // git refused before it made anything: whatever exists under that name is not ours
      createdBranch = false
      ownTree = false
      throw new ConflictError(`cannot create branch ${branch}: ${fatalLine(added.stderr)}`, {
        code: 'E_BRANCH',
        hint: 'another berth run may be creating it right now; try again',
      })
    }
    if (added.exitCode !== 0) {
      stopIfInterrupted()
      const reason = fatalLine(added.stderr)
      const taken = /already exists|already checked out|is already used by worktree/.test(reason)
      if (taken) ownTree = false
      const Failure = taken ? ConflictError : OperationError
      throw new Failure(`git worktree add ${path} failed: ${reason}`, { details: { stderr: added.stderr.trim() } })
    }
  } catch (error) {
    // What this run's add made — a worktree git finished while its post-checkout hook ran, or what
    // an interrupted add left — is removed; runGit returns only once git and its hooks are gone.
    await undoCreateWorktree(repoRoot, { path, branch, createdBranch, startPoint, head, createdFolders }, log, ownTree)
    throw error
  }
  if (startPoint !== null) log.info(`created branch ${branch} from ${startPoint} (${head.slice(0, 12)})`)
  log.info(`created worktree ${path} on ${branch}`)
  return { path, branch, createdBranch, startPoint, head, createdFolders }
}

/**
 * Reverses `createWorktree`: removes the worktree (`git worktree remove --force`, then the folder
 * itself if git left it), prunes, deletes the branch only when that run created it, and removes
 * the parent folders it created if they are empty. `git worktree list` and `git branch` end up as
 * they were before. With `removeTree` false only the branch and folders are handled.
 */
export async function undoCreateWorktree(
  repoRoot: string,
  created: CreatedWorktree,
  log: Logger,
  removeTree = true,
): Promise<void> {
  if (removeTree && pathTaken(created.path)) {
    const removed = await runGit(repoRoot, ['worktree', 'remove', '--force', '--force', created.path], {
      allowFailure: true,
    })
    // This run created the folder moments ago, so deleting what git left behind is ours to do.
    if (removed.exitCode !== 0 || pathTaken(created.path)) await rm(created.path, { recursive: true, force: true })
  }
  await runGit(repoRoot, ['worktree', 'prune'], { allowFailure: true })
  if (created.createdBranch) {
    const exists = await runGit(repoRoot, ['rev-parse', '--verify', '--quiet', `refs/heads/${created.branch}`], {
      allowFailure: true,
    })
    const deleted =
      exists.exitCode === 0 ? await runGit(repoRoot, ['branch', '-D', created.branch], { allowFailure: true }) : exists
    if (exists.exitCode === 0 && deleted.exitCode !== 0) {
      log.warn(`could not delete branch ${created.branch}: ${firstLine(deleted.stderr)}`)
    }
  }
  for (const folder of [...created.createdFolders].reverse()) {
    await rmdir(folder).catch(() => undefined)
  }
}

async function fetchRemote(options: CreateWorktreeOptions): Promise<void> {
  const fetched = await runGit(options.repoRoot, ['fetch', '--quiet', options.remote], {
    allowFailure: true,
    signal: options.signal,
    timeout: REMOTE_TIMEOUT_MS,
  })
  if (fetched.exitCode !== 0) {
    const reason = firstLine(fetched.stderr) || 'timed out'
    options.log.warn(`git fetch ${options.remote} failed (${reason}); continuing with the refs known locally`)
  }
}

/** A branch can be checked out in one worktree only: name the one that has it. */
async function assertBranchFree(repoRoot: string, branch: string): Promise<void> {
  const holder = (await listWorktrees(repoRoot)).find((entry) => entry.branch === branch)
  if (holder) {
    throw new ConflictError(`branch ${branch} is already checked out in ${holder.path}`, {
      code: 'E_BRANCH_IN_USE',
      hint: `switch that checkout to another branch, or use it instead of creating a new worktree`,
      details: { branch, path: holder.path },
    })
  }
}

/** Creates the folders above `path` that are missing; returns them outermost first. */
async function createParentFolders(path: string): Promise<string[]> {
  const parent = dirname(path)
  if (await realPathOrNull(parent)) return []
  const first = await mkdir(parent, { recursive: true })
  if (!first) return []
  const created = [first]
  for (const part of relative(first, parent).split(sep).filter(Boolean)) {
    created.push(`${created[created.length - 1]}${sep}${part}`)
  }
  return created
}

/** The commit `refs/heads/<branch>` names, or null when there is no such branch (files first, else git). */
async function branchCommit(repoRoot: string, branch: string, signal?: AbortSignal): Promise<string | null> {
  const read = readRef(repoRoot, `refs/heads/${branch}`)
  if (read !== undefined) return read?.target ?? null
  const result = await runGit(repoRoot, ['rev-parse', '--verify', '--quiet', `refs/heads/${branch}^{commit}`], {
    allowFailure: true,
    signal,
  })
  return result.exitCode === 0 ? firstLine(result.stdout) || null : null
}

/** Seconds since the repository last fetched (FETCH_HEAD's age), or null when it never did. */
function lastFetchAge(repoRoot: string): number | null {
  const dirs = discoverGitDirs(repoRoot)
  if (!dirs) return null
  try {
    return Math.max(0, (Date.now() - statSync(join(dirs.commonDir, 'FETCH_HEAD')).mtimeMs) / 1000)
  } catch {
    return null
  }
}

/** git's reason: its `fatal:` line (worktree add prints "Preparing worktree …" first), else the first. */
function fatalLine(stderr: string): string {
  return stderr.split('\n').find((line) => line.startsWith('fatal: ')) ?? firstLine(stderr)
}
