import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

// Every git in these tests (the fixture's and the plugin's, which inherits process.env) ignores the
// user's global and system config and commits as a fixed identity.
Object.assign(process.env, {
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Berth Test',
  GIT_AUTHOR_EMAIL: 'berth-test@example.invalid',
  GIT_COMMITTER_NAME: 'Berth Test',
  GIT_COMMITTER_EMAIL: 'berth-test@example.invalid',
})

export interface GitFixture {
  /** Temp folder holding everything: the parent folder of the main checkout. */
  dir: string
  /** The bare "origin" repository (absent with `remote: false`). */
  origin: string
  /** The main checkout, `<dir>/acme`. */
  repo: string
  /** Runs git in `cwd` and returns its trimmed stdout. */
  git(cwd: string, ...args: string[]): string
  /** Writes a file (creating folders) and commits it; returns the new commit's sha. */
  commit(cwd: string, file: string, message: string): string
  cleanup(): void
}

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()
}

export function commit(cwd: string, file: string, message: string): string {
  const path = join(cwd, file)
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, `${message}\n`)
  git(cwd, 'add', '--', file)
  git(cwd, 'commit', '--quiet', '-m', message)
  return git(cwd, 'rev-parse', 'HEAD')
}

/**
 * A real repository: `<dir>/origin.git` (bare, default branch main) and its clone `<dir>/acme`
 * with one pushed commit, so `origin/HEAD -> origin/main` is set as `git clone` sets it.
 */
export function gitFixture(options: { remote?: boolean } = {}): GitFixture {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'berth-worktree-')))
  const origin = join(dir, 'origin.git')
  const repo = join(dir, 'acme')
  if (options.remote === false) {
    git(dir, 'init', '--quiet', '-b', 'main', 'acme')
    commit(repo, 'README.md', 'initial commit')
  } else {
    const seed = join(dir, 'seed')
    git(dir, 'init', '--quiet', '-b', 'main', 'seed')
    commit(seed, 'README.md', 'initial commit')
    git(dir, 'clone', '--quiet', '--bare', seed, origin)
    git(dir, 'clone', '--quiet', origin, repo)
    rmSync(seed, { recursive: true, force: true })
  }
  return { dir, origin, repo, git, commit, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Pushes a new commit to origin's main from a throw-away clone, so the main checkout is behind. */
export function advanceOrigin(fixture: GitFixture, message: string): string {
  const other = join(fixture.dir, `other-${Math.random().toString(36).slice(2, 8)}`)
  git(fixture.dir, 'clone', '--quiet', fixture.origin, other)
  const sha = commit(other, `${message.replace(/\W+/g, '-')}.txt`, message)
  git(other, 'push', '--quiet', 'origin', 'HEAD:main')
  rmSync(other, { recursive: true, force: true })
  return sha
}
