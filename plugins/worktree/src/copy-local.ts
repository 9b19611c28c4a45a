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
  const copied: string[] = []
  for (const name of names) {
    const from = join(repoRoot, name)
    const to = join(worktree, name)
    if (!existsSync(from) || existsSync(to)) continue
    const stat = lstatSync(from)
    if (!stat.isFile()) continue
    const ignored = await runGit(repoRoot, ['check-ignore', '-q', '--', name], { allowFailure: true })
    if (ignored.exitCode !== 0) continue
    await mkdir(dirname(to), { recursive: true })
    await copyFile(from, to, constants.COPYFILE_EXCL)
    await chmod(to, stat.mode & 0o777)
    copied.push(name)
  }
  if (copied.length > 0) {
    log.info(
      `copied ${copied.join(', ')} from the main checkout (git ignores ${copied.length === 1 ? 'it' : 'them'}; worktree.copy)`,
    )
  }
  return copied
}
