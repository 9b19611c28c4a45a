import { execFile } from 'node:child_process'
import { existsSync, realpathSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { EnvironmentError, type RepoInfo } from '@berth/contract'

const run = promisify(execFile)

/** Runs git with arguments (never a shell string); resolves stdout. */
export async function git(args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string }
    if (e.code === 'ENOENT') {
      throw new EnvironmentError('git is not installed (or not on PATH)', {
        code: 'E_NO_GIT',
        hint: 'install git 2.30 or newer',
      })
    }
    throw Object.assign(new Error(`git ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`), { cause: error })
  }
}

/**
 * The repository around `dir` in one git call: the main checkout (where `.git` is a folder) and
 * the checkout containing `dir` (a worktree when its `.git` is a file). Undefined outside git.
 */
export async function detectRepo(dir: string): Promise<RepoInfo | undefined> {
  let out: string
  // The origin URL is asked at the same time, so it costs no wall time.
  const originUrl = git(['config', '--get', 'remote.origin.url'], dir).then(
    (url) => url.trim() || null,
    () => null,
  )
  try {
    out = await git(['rev-parse', '--path-format=absolute', '--show-toplevel', '--git-common-dir'], dir)
  } catch (error) {
    if (error instanceof EnvironmentError) throw error
    return undefined
  }
  const [checkout, commonDir] = out.trim().split('\n') as [string, string]
  const root = commonDir.endsWith('/.git') ? dirname(commonDir) : resolve(checkout)
  const dotGit = join(checkout, '.git')
  const isWorktree = existsSync(dotGit) && statSync(dotGit).isFile()
  const url = await originUrl
  return { root, checkout, isWorktree, origin: url === null ? null : normaliseOrigin(url, checkout) }
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

/** Adds `patterns` to the repository's shared `info/exclude` unless git already ignores them there. */
export async function excludeFromGit(checkout: string, patterns: string[]): Promise<void> {
  const { appendFile, mkdir, readFile } = await import('node:fs/promises')
  const file = (await git(['rev-parse', '--path-format=absolute', '--git-path', 'info/exclude'], checkout)).trim()
  const current = await readFile(file, 'utf8').catch(() => '')
  const lines = new Set(current.split('\n').map((l) => l.trim()))
  const missing = patterns.filter((p) => !lines.has(p))
  if (missing.length === 0) return
  await mkdir(dirname(file), { recursive: true })
  const prefix = current.length > 0 && !current.endsWith('\n') ? '\n' : ''
  await appendFile(file, `${prefix}# added by berth: per-instance files, never committed\n${missing.join('\n')}\n`)
}
