import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/** Real paths of a checkout's top folder, its git dir and the repository's common git dir. */
export interface GitDirs {
  toplevel: string
  gitDir: string
  commonDir: string
}

/**
 * Repository discovery by reading files, as git does it (issue 16: no process where a file read
 * answers): from `dir` upward, the first `.git` folder, or `.git` file naming its git dir
 * (`gitdir: …`, a linked worktree or a submodule); the common dir from the git dir's `commondir`.
 *
 * Undefined whenever git itself might answer differently, and the caller then asks git: a
 * variable that changes discovery is set (GIT_CEILING_DIRECTORIES, GIT_DISCOVERY_ACROSS_FILESYSTEM;
 * berth runs git without GIT_DIR and GIT_WORK_TREE), the folder is inside a git dir or a bare
 * repository, a checkout belongs to another user (git's safe.directory check), the repository's
 * config sets `core.worktree` or `core.bare`, includes other files or has per-worktree config,
 * or nothing is found up to the root (git's answer, "not a repository", stays git's).
 */
export function discoverGitDirs(dir: string): GitDirs | undefined {
  if (process.env.GIT_CEILING_DIRECTORIES || process.env.GIT_DISCOVERY_ACROSS_FILESYSTEM) return undefined
  let current: string
  try {
    current = realpathSync(resolve(dir))
  } catch {
    return undefined
  }
  for (;;) {
    if (looksLikeGitDir(current)) return undefined // inside a git dir or a bare repository
    const found = gitDirAt(current)
    if (found === null) return undefined
    if (found) return checked(current, found)
    const parent = dirname(current)
    if (parent === current) return undefined
    current = parent
  }
}

/** The git dir `<folder>/.git` names: undefined when there is none, null when it is unusual. */
function gitDirAt(folder: string): string | null | undefined {
  const dotGit = join(folder, '.git')
  let stat: ReturnType<typeof lstatSync>
  try {
    stat = lstatSync(dotGit)
  } catch {
    return undefined
  }
  try {
    if (stat.isDirectory()) return looksLikeGitDir(dotGit) ? realpathSync(dotGit) : null
    if (!stat.isFile()) return null
    const text = readFileSync(dotGit, 'utf8')
    const match = /^gitdir: (.+?)\s*$/.exec(text.split('\n')[0] ?? '')
    if (!match) return null
    const gitDir = realpathSync(resolve(folder, match[1]!))
    return looksLikeGitDir(gitDir) ? gitDir : null
  } catch {
    return null
  }
}

function looksLikeGitDir(path: string): boolean {
  try {
    return statSync(join(path, 'HEAD')).isFile() && statSync(join(path, 'objects')).isDirectory()
  } catch {
    try {
      // A linked worktree's git dir has HEAD and commondir, its objects live in the common dir.
      return statSync(join(path, 'HEAD')).isFile() && statSync(join(path, 'commondir')).isFile()
    } catch {
      return false
    }
  }
}

function checked(toplevel: string, gitDir: string): GitDirs | undefined {
  try {
    if (typeof process.getuid === 'function' && statSync(toplevel).uid !== process.getuid()) return undefined
    let commonDir = gitDir
    try {
      const pointer = readFileSync(join(gitDir, 'commondir'), 'utf8').trim()
      commonDir = realpathSync(resolve(gitDir, pointer))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return undefined
    }
    const config = readFileSync(join(commonDir, 'config'), 'utf8')
    if (/^\s*(worktree|bare\s*=\s*true|worktreeconfig\s*=\s*true)/im.test(config)) return undefined
    if (/^\s*\[\s*include/im.test(config)) return undefined
    return { toplevel, gitDir, commonDir }
  } catch {
    return undefined
  }
}

/**
 * `remote.<name>.url` from the repository's own config file, as `git config --get` prints it;
 * undefined when that file does not set it plainly (quoted or escaped values, several urls) —
 * then git answers, as it also reads the user's and the system's config.
 */
export function configRemoteUrl(commonDir: string, remote: string): string | undefined {
  let text: string
  try {
    text = readFileSync(join(commonDir, 'config'), 'utf8')
  } catch {
    return undefined
  }
  let inRemote = false
  const urls: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line.startsWith('[')) {
      const section = /^\[\s*remote\s+"([^"\\]*)"\s*\]$/i.exec(line)
      inRemote = section !== null && section[1] === remote
      if (!section && !/^\[[A-Za-z0-9.-]+(\s+"[^"\\]*")?\]$/.test(line)) return undefined
      continue
    }
    if (!inRemote) continue
    const entry = /^url\s*=\s*(.*)$/i.exec(line)
    if (!entry) continue
    const value = entry[1]!
    if (/["\\;#]/.test(value)) return undefined
    urls.push(value.trim())
  }
  return urls.length === 1 ? urls[0] : undefined
}
