import { lstat } from 'node:fs/promises'
import { isAbsolute, resolve } from 'node:path'
import { ConflictError } from '@berth/contract'
import { gitDirs, remoteUrl } from '@berth/git'
import { type CheckoutType, checkoutType } from './checkout.js'
import { isInside, realPathOrNull } from './paths.js'
import { type WorkState, workState } from './state.js'

/** A path berth is asked to remove, and what it must belong to. */
export interface RemovalTarget {
  /** The path recorded in the registry (never the cwd). */
  path: string
  /** The main checkout of the repository the path must belong to. */
  repoRoot: string
  /** The configured parent folder; the path must be strictly inside it. */
  parent: string
  /** Remote whose URL a clone must share with the main checkout. Default `origin`. */
  remote?: string
}

export interface SafePath {
  path: string
  /** Symlinks resolved; null when the path no longer exists. */
  realPath: string | null
  exists: boolean
  checkout: Exclude<CheckoutType, 'none'> | null
}

/**
 * The guards that hold even with `--force`: the path must be absolute, strictly inside the
 * parent folder once symlinks are resolved, not the main checkout (nor contain it), and the top
 * of a linked worktree of the same repository (same `git rev-parse --git-common-dir`) or of a
 * clone with the same remote URL. A path that no longer exists passes with `exists: false`.
 * Throws ConflictError (exit 3, code E_UNSAFE_PATH) naming the rule that failed.
 */
export async function assertSafePath(target: RemovalTarget): Promise<SafePath> {
  const { path } = target
  if (!isAbsolute(path)) refuse(path, 'it is not an absolute path')
  if (!(await exists(path))) return { path, realPath: null, exists: false, checkout: null }
  const [realPath, realParent, realRoot] = await Promise.all([
    realPathOrNull(path),
    realPathOrNull(target.parent),
    realPathOrNull(target.repoRoot),
  ])
  if (!realPath) refuse(path, 'it is a symbolic link to nothing')
  if (!realRoot) refuse(path, `the main checkout ${target.repoRoot} does not exist`)
  if (realPath === realRoot || isInside(realPath, realRoot)) refuse(path, 'it is the main checkout of the repository')
  if (!realParent || !isInside(realParent, realPath)) {
    const shown = realPath === resolve(path) ? '' : ` (it resolves to ${realPath})`
    refuse(path, `it is not inside the worktree parent folder ${target.parent}${shown}`)
  }
  const checkout = await checkoutType(realPath)
  if (checkout === 'none') refuse(path, 'it is not a git worktree or clone (no .git at its top)')

  const [mine, theirs] = await Promise.all([gitDirs(realRoot), gitDirs(realPath)])
  if (!theirs || theirs.toplevel !== realPath) refuse(path, 'it is not the top folder of a git checkout')
  if (checkout === 'worktree') {
    if (!mine || theirs.commonDir !== mine.commonDir)
      refuse(path, `it is a worktree of another repository than ${realRoot}`)
    if (theirs.gitDir === theirs.commonDir) refuse(path, 'it is a main checkout, not a linked worktree')
  } else {
    const remote = target.remote ?? 'origin'
    const [rootUrl, cloneUrl] = await Promise.all([remoteUrl(realRoot, remote), remoteUrl(realPath, remote)])
    const sameOrigin = rootUrl !== null && cloneUrl !== null && rootUrl === cloneUrl
    const clonedFromRoot = cloneUrl !== null && cloneUrl === realRoot
    if (!sameOrigin && !clonedFromRoot) {
      refuse(
        path,
        `it is a clone of another repository (its ${remote} is ${cloneUrl ?? 'not set'}, expected ${rootUrl ?? realRoot})`,
      )
    }
  }
  return { path, realPath, exists: true, checkout }
}

export interface RemovableOptions extends RemovalTarget {
  /** Whether berth created the folder (from the registry record). */
  createdByBerth: boolean
  /** `--force`: accept losing uncommitted/unpushed work and removing a folder berth did not create. */
  force: boolean
  /** Base branch for "merged" (see `workState`). */
  baseBranch?: string | null | undefined
}

export interface RemovalCheck extends SafePath {
  /** Work state of the checkout; null when it no longer exists. */
  state: WorkState | null
}

/**
 * Everything `done` checks before removing a checkout: the path guards (always), then unless
 * `force`: berth must have created the folder, and nothing uncommitted or unpushed may be lost.
 * The ConflictError (exit 3, code E_UNSAVED_WORK) lists every file and commit at stake.
 */
export async function assertRemovable(options: RemovableOptions): Promise<RemovalCheck> {
  const safe = await assertSafePath(options)
  if (!safe.exists || !safe.realPath) return { ...safe, state: null }
  if (!options.createdByBerth && !options.force) {
    throw new ConflictError(`berth did not create ${options.path}, so it will not delete it`, {
      code: 'E_NOT_CREATED_BY_BERTH',
      hint: 'it was registered from an existing checkout; pass --force to delete the folder anyway, or remove it yourself',
      details: { path: options.path },
    })
  }
  const state = await workState(safe.realPath, { baseBranch: options.baseBranch, remote: options.remote })
  if (!options.force && (state.dirty.length > 0 || state.unpushed.length > 0)) {
    throw new ConflictError(describeLoss(options.path, state), {
      code: 'E_UNSAVED_WORK',
      hint: `commit and push (or merge into ${state.baseBranch ?? 'the base branch'}), or pass --force to remove it anyway (the branch is kept)`,
      details: { path: options.path, dirty: state.dirty, unpushed: state.unpushed, upstream: state.upstream },
    })
  }
  return { ...safe, state }
}

/** Human text listing what removing `path` would lose. */
export function describeLoss(path: string, state: Pick<WorkState, 'dirty' | 'unpushed' | 'branch'>): string {
  const lines = [`${path} has work that removing it would lose:`]
  if (state.dirty.length > 0) {
    lines.push(`  uncommitted changes (${state.dirty.length}):`, ...capped(state.dirty.map((line) => `    ${line}`)))
  }
  if (state.unpushed.length > 0) {
    const where = state.branch ? ` on ${state.branch}` : ''
    lines.push(
      `  unpushed commits${where} (${state.unpushed.length}):`,
      ...capped(state.unpushed.map((commit) => `    ${commit.sha.slice(0, 12)} ${commit.subject}`)),
    )
  }
  return lines.join('\n')
}

const LIST_LIMIT = 20

function capped(lines: string[]): string[] {
  if (lines.length <= LIST_LIMIT) return lines
  return [...lines.slice(0, LIST_LIMIT), `    … and ${lines.length - LIST_LIMIT} more`]
}

function refuse(path: string, reason: string): never {
  throw new ConflictError(`refusing to remove ${path}: ${reason}`, {
    code: 'E_UNSAFE_PATH',
    hint: 'berth only removes worktrees and clones it registered for this repository, inside the worktree parent folder',
    details: { path, reason },
  })
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch {
    return false
  }
}
