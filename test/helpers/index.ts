import assert from 'node:assert/strict'
/**
 * Fixtures for berth's end-to-end tests: real temp folders, real git repositories with a bare
 * origin, and the real `berth` CLI as a child process. Nothing here mocks git or Docker.
 */
import { execFile, spawn } from 'node:child_process'
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const BERTH_BIN = join(REPO_ROOT, 'tasks/bin/berth.js')
/** Folder holding the stand-in `op` (1Password CLI); put it first on PATH to use it. */
export const FIXTURE_BIN = join(REPO_ROOT, 'test/fixtures/bin')

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'berth test',
  GIT_AUTHOR_EMAIL: 'test@berth.invalid',
  GIT_COMMITTER_NAME: 'berth test',
  GIT_COMMITTER_EMAIL: 'test@berth.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
}

/** A fresh temp folder (realpath'd) removed by `cleanup()`. */
export function testdir(prefix = 'berth-test-'): { dir: string; cleanup: () => void } {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), prefix)))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, { cwd, env: { ...process.env, ...GIT_ENV } })
  return stdout
}

export interface GitFixture {
  /** The main checkout (a clone of `origin`). */
  repo: string
  /** The bare repository playing the remote `origin`. */
  origin: string
}

/**
 * `<parent>/origin.git` (bare) and `<parent>/<name>` cloned from it, with one pushed commit on
 * `main`. `files` are written and committed in that first commit.
 */
export async function gitRepo(parent: string, name = 'app', files: Record<string, string> = {}): Promise<GitFixture> {
  const origin = join(parent, 'origin.git')
  const repo = join(parent, name)
  await execFileAsync('git', ['init', '-q', '--bare', '-b', 'main', origin], { env: { ...process.env, ...GIT_ENV } })
  await execFileAsync('git', ['clone', '-q', origin, repo], { env: { ...process.env, ...GIT_ENV } })
  await git(repo, 'checkout', '-q', '-B', 'main')
  writeFileSync(join(repo, 'README.md'), `# ${name}\n`)
  for (const [path, content] of Object.entries(files)) {
    const full = join(repo, path)
    await import('node:fs').then((fs) => fs.mkdirSync(dirname(full), { recursive: true }))
    writeFileSync(full, content)
  }
  await git(repo, 'add', '-A')
  await git(repo, 'commit', '-q', '-m', 'initial commit')
  await git(repo, 'push', '-q', '-u', 'origin', 'main')
  return { repo, origin }
}

export interface BerthResult {
  code: number
  stdout: string
  stderr: string
  /** stdout parsed as JSON when `--json` was passed. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever shape the command printed
  json: any
}

/** Asserts berth exited with `code`, showing its stdout and stderr when it did not; returns the result. */
export function expectExit(result: BerthResult, code: number, what: string): BerthResult {
  assert.equal(
    result.code,
    code,
    `${what} exited ${result.code}, want ${code}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
  )
  return result
}

/** The environment every test runs berth with: isolated git identity/config, no colour, its own BERTH_HOME. */
export function berthEnv(home: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...GIT_ENV, NO_COLOR: '1', BERTH_HOME: home, BERTH_CHECK_OUTPUTS: '1', ...extra }
}

/** Runs the real CLI (`node tasks/bin/berth.js`) as a child process. */
export function berth(
  args: string[],
  options: { cwd: string; home: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<BerthResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BERTH_BIN, ...args], {
      cwd: options.cwd,
      env: berthEnv(options.home, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      let json: unknown
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout)
        } catch {
          json = undefined
        }
      }
      resolvePromise({ code: code ?? -1, stdout, stderr, json })
    })
  })
}

/** Writes `berth.config.json` into `dir`. */
export function writeConfig(dir: string, config: unknown): void {
  writeFileSync(join(dir, 'berth.config.json'), `${JSON.stringify(config, null, 2)}\n`)
}
