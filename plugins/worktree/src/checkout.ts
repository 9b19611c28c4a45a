import { lstat, realpath } from 'node:fs/promises'
import { basename, dirname, join, resolve } from 'node:path'
import { EnvironmentError, type RepoInfo } from '@berth/contract'
import { outputLines, runGit } from './git.js'

/** How a folder holds its checkout: `.git` folder = clone (or main checkout), `.git` file = linked worktree. */
export type CheckoutType = 'clone' | 'worktree' | 'none'

export async function checkoutType(path: string): Promise<CheckoutType> {
  try {
    const stat = await lstat(join(path, '.git'))
    if (stat.isDirectory()) return 'clone'
    if (stat.isFile()) return 'worktree'
    return 'none'
  } catch {
    return 'none'
  }
}

/**
 * Finds the repository around `dir`: `root` is the main checkout (the one whose `.git` is a
 * folder, found through `git rev-parse --git-common-dir`), `checkout` the checkout containing
 * `dir`. One git call. Throws EnvironmentError (exit 4) when `dir` is not in a git repository
 * or git is missing.
 */
export async function detectCheckout(dir: string): Promise<RepoInfo> {
  const from = resolve(dir)
  const result = await runGit(from, ['rev-parse', '--show-toplevel', '--git-dir', '--git-common-dir'], {
    allowFailure: true,
  })
  const [toplevel, gitDir, commonDir] = outputLines(result.stdout)
  if (result.exitCode !== 0 || !toplevel || !gitDir || !commonDir) {
    throw new EnvironmentError(`${from} is not inside a git repository (or it is a bare one)`, {
      code: 'E_NO_REPO',
      hint: 'run berth from a checkout of your project, or pass --cwd <checkout>',
      details: { stderr: result.stderr.trim() },
    })
  }
  // rev-parse prints --git-dir/--git-common-dir relative to the folder it ran in.
  const checkout = await realpath(toplevel)
  const realGitDir = await realpath(resolve(from, gitDir))
  const realCommonDir = await realpath(resolve(from, commonDir))
  const isWorktree = realGitDir !== realCommonDir
  if (!isWorktree) return { root: checkout, checkout, isWorktree }
  return { root: await mainCheckoutOf(realCommonDir, checkout), checkout, isWorktree }
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
