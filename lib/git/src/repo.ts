import { promises, realpathSync } from 'node:fs'
import { basename, dirname, isAbsolute, resolve } from 'node:path'
import { EnvironmentError, type RepoInfo } from '@berth/contract'
import { configRemoteUrl, discoverGitDirs, type GitDirs } from './discover.js'
import { assertGitOnPath, firstLine, outputLines, runGit } from './run.js'

/** node:fs/promises, loaded on first use (a command that only reads starts faster, issue 16). */
const fsp = () => promises

export type { GitDirs }

async function realOrNull(path: string): Promise<string | null> {
  try {
    return await fsp().realpath(path)
  } catch {
    return null
  }
}

/**
 * The checkout around `dir` as real paths: read from the files when they answer plainly
 * ({@link discoverGitDirs}), else in one git call; null outside a (non-bare) repository.
 */
export async function gitDirs(dir: string): Promise<GitDirs | null> {
  const from = resolve(dir)
  const read = discoverGitDirs(from)
  if (read) return read
  const result = await runGit(from, ['rev-parse', '--show-toplevel', '--git-dir', '--git-common-dir'], {
    allowFailure: true,
  })
  const [toplevel, gitDir, commonDir] = outputLines(result.stdout)
  if (result.exitCode !== 0 || !toplevel || !gitDir || !commonDir) return null
  // rev-parse prints --git-dir/--git-common-dir relative to the folder it ran in.
  const [realTop, realGitDir, realCommon] = await Promise.all([
    realOrNull(toplevel),
    realOrNull(resolve(from, gitDir)),
    realOrNull(resolve(from, commonDir)),
  ])
  if (!realTop || !realGitDir || !realCommon) return null
  return { toplevel: realTop, gitDir: realGitDir, commonDir: realCommon }
}

/** The main checkout owning a common git dir: its parent when it is `<root>/.git`, else git's own answer. */
async function mainCheckoutOf(commonDir: string, anyCheckout: string): Promise<string> {
  if (basename(commonDir) === '.git') return dirname(commonDir)
  // A separate git dir (`git clone --separate-git-dir`): the first `worktree` entry is the main one.
  const list = await runGit(anyCheckout, ['worktree', 'list', '--porcelain'])
  const first = list.stdout.split('\n').find((line) => line.startsWith('worktree '))
  if (!first) throw new EnvironmentError(`cannot find the main checkout of ${anyCheckout}`, { code: 'E_NO_REPO' })
  return first.slice('worktree '.length)
}

/**
 * The repository around `dir` — the one repository detector: `root` is the main checkout (whose
 * `.git` is a folder), `checkout` the checkout containing `dir` (a linked worktree when its git
 * dir is not the common one), `origin` the `origin` remote normalised ({@link normaliseOrigin}),
 * asked at the same time so it costs no wall time. Undefined outside git; throws EnvironmentError
 * when git is missing.
 */
export async function findRepository(dir: string): Promise<RepoInfo | undefined> {
  const from = resolve(dir)
  // Asked at the same time; its failure (git missing) is the detector's to report.
  const origin = remoteUrl(from, 'origin').catch(() => null)
  const dirs = await gitDirs(from)
  if (!dirs) return undefined
  const checkout = dirs.toplevel
  const isWorktree = dirs.gitDir !== dirs.commonDir
  const root = isWorktree ? await mainCheckoutOf(dirs.commonDir, checkout) : checkout
  return { root, checkout, isWorktree, origin: await origin }
}

/** {@link findRepository}, or EnvironmentError (exit 4, `E_NO_REPO`) outside a repository. */
export async function detectCheckout(dir: string): Promise<RepoInfo> {
  assertGitOnPath()
  const repo = await findRepository(dir)
  if (repo) return repo
  throw new EnvironmentError(`${resolve(dir)} is not inside a git repository (or it is a bare one)`, {
    code: 'E_NO_REPO',
    hint: 'run berth from a checkout of your project, or pass --cwd <checkout>',
  })
}

/** A remote's URL normalised ({@link normaliseOrigin}); null when the remote does not exist. */
export async function remoteUrl(dir: string, remote: string): Promise<string | null> {
  const dirs = discoverGitDirs(dir)
  const configured = dirs ? configRemoteUrl(dirs.commonDir, remote) : undefined
  if (configured) return normaliseOrigin(configured, dir)
  const result = await runGit(dir, ['config', '--get', `remote.${remote}.url`], { allowFailure: true })
  const url = firstLine(result.stdout)
  if (result.exitCode !== 0 || !url) return null
  return normaliseOrigin(url, dir)
}

/**
 * A remote URL in a form two clones of one repository share: a local path (absolute, relative or
 * `file://`) becomes the real path it names; any other URL loses a trailing `/` and `.git`.
 */
export function normaliseOrigin(url: string, checkout: string): string {
  const local = url.startsWith('file://') ? url.slice('file://'.length) : url
  if (isAbsolute(local) || local.startsWith('./') || local.startsWith('../')) {
    const path = resolve(checkout, local)
    try {
      return realpathSync(path)
    } catch {
      return path.replace(/\/+$/, '')
    }
  }
  return url.replace(/\/+$/, '').replace(/\.git$/, '')
}

/** Adds `patterns` to the repository's shared `info/exclude` unless they are already there. */
export async function excludeFromGit(checkout: string, patterns: string[]): Promise<void> {
  const where = await runGit(checkout, ['rev-parse', '--path-format=absolute', '--git-path', 'info/exclude'])
  const file = where.stdout.trim()
  const current = await fsp()
    .readFile(file, 'utf8')
    .catch(() => '')
  const lines = new Set(current.split('\n').map((l) => l.trim()))
  const missing = patterns.filter((p) => !lines.has(p))
  if (missing.length === 0) return
  await fsp().mkdir(dirname(file), { recursive: true })
  const prefix = current.length > 0 && !current.endsWith('\n') ? '\n' : ''
  await fsp().appendFile(
    file,
    `${prefix}# added by berth: per-instance files, never committed\n${missing.join('\n')}\n`,
  )
}
