import { constants, existsSync, lstatSync } from 'node:fs'
import { chmod, copyFile, mkdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { Logger } from '@berth/contract'
import { runGit } from './git.js'

/**
 * Copies the files of `worktree.copy` (default `.env`) from the main checkout into a new worktree:
 * only a regular file the main checkout has, that git ignores (a tracked file is checked out
 * already; an untracked one git does not ignore is someone's work in progress, not config) and that
 * the worktree lacks. Its mode is kept (a `.env` with secrets stays 0600). Returns what was copied.
 */
export async function copyLocalFiles(
  repoRoot: string,
  worktree: string,
  names: readonly string[],
  log: Logger,
): Promise<string[]> {
  const candidates = names.filter((name) => {
    const from = join(repoRoot, name)
    return existsSync(from) && lstatSync(from).isFile() && !existsSync(join(worktree, name))
  })
  if (candidates.length === 0) return []
  // One git process answers for every candidate: it prints those it ignores, a line each (exit 1
  // when none); unquoted, so a name prints as written (the config refuses control characters).
  const ignored = await runGit(repoRoot, ['-c', 'core.quotePath=false', 'check-ignore', '--', ...candidates], {
    allowFailure: true,
  })
  const ignoredNames = new Set(ignored.stdout.split('\n'))
  const copied = candidates.filter((name) => ignoredNames.has(name))
  for (const name of copied) {
    const from = join(repoRoot, name)
    const to = join(worktree, name)
    await mkdir(dirname(to), { recursive: true })
    await copyFile(from, to, constants.COPYFILE_EXCL)
    await chmod(to, lstatSync(from).mode & 0o777)
  }
  if (copied.length > 0) {
    log.info(
      `copied ${copied.join(', ')} from the main checkout (git ignores ${copied.length === 1 ? 'it' : 'them'}; worktree.copy)`,
    )
  }
  return copied
}
