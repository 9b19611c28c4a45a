import { realpathSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { parseEnvFile, UsageError } from '@berth/contract'

export interface SecretsFileLocation {
  /** Where a relative `file` is resolved from (the config file's folder). */
  baseDir: string
  /** Folders the file must be outside of: the repository, the worktree, the instance. */
  forbiddenRoots: string[]
  /** Expands `~`; default `HOME` of the environment, else the OS home. */
  home?: string | undefined
}

/**
 * The absolute, symlink-resolved path of the env-file provider's file. Refuses (exit 2) a file
 * inside the repository or a worktree: a secrets file there is one `git add .` from being pushed.
 */
export function resolveSecretsFile(file: string, location: SecretsFileLocation): string {
  const home = location.home ?? homedir()
  const expanded = file === '~' ? home : file.startsWith('~/') ? join(home, file.slice(2)) : file
  const absolute = realPathSoFar(resolve(location.baseDir, expanded))
  for (const root of location.forbiddenRoots) {
    const realRoot = realPathSoFar(resolve(root))
    if (isInside(absolute, realRoot)) {
      throw new UsageError(`secrets.file ${JSON.stringify(file)} is inside the repository (${realRoot})`, {
        code: 'E_SECRETS_FILE_IN_REPO',
        hint: 'keep secret files outside the repository, e.g. ~/.config/<project>/secrets.env, and point secrets.file there',
      })
    }
  }
  return absolute
}

/**
 * Reads `KEY=value` lines (the contract's parser) from a secrets file. Returns null when the file
 * does not exist. A malformed line is reported by number only: its text may hold a value.
 */
export async function readSecretsFile(path: string): Promise<Record<string, string> | null> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null
    throw new UsageError(`cannot read secrets file ${path}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`, {
      hint: 'check the file and its permissions',
    })
  }
  try {
    return parseEnvFile(text, path)
  } catch (error) {
    const line = error instanceof Error ? /:(\d+): expected/.exec(error.message)?.[1] : undefined
    throw new UsageError(
      `${path}${line ? `:${line}` : ''}: expected KEY=value (the line is not shown: it may hold a secret)`,
      {
        code: 'E_SECRETS_FILE_SYNTAX',
        hint: 'write one KEY=value per line; no `export`, blank lines and # comments are fine',
      },
    )
  }
}

function isInside(path: string, root: string): boolean {
  const rel = relative(root, path)
  return rel === '' || !(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel))
}

/** realpath of the longest existing prefix of `path`, with the rest appended. */
function realPathSoFar(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    const parent = dirname(path)
    if (parent === path) return path
    return join(realPathSoFar(parent), basename(path))
  }
}
