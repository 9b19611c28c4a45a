/**
 * The bench's world: one temp folder for every repository, clone and BERTH_HOME it makes, a run
 * tag that prefixes every compose project name, and a cleanup stack that always runs (last in,
 * first out), followed by a sweep of every container, network and volume carrying the tag.
 */
import { randomBytes } from 'node:crypto'
import { cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { run, runOk } from './proc.mjs'

export const BENCH_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const REPO_ROOT = resolve(BENCH_DIR, '..')
export const BERTH_BIN = join(REPO_ROOT, 'tasks/bin/berth.js')
export const DEMO_DIR = join(REPO_ROOT, 'examples/demo')
export const NODE = process.execPath

/** git sees no user or system config, and commits have a fixed identity. */
export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'berth bench',
  GIT_AUTHOR_EMAIL: 'bench@berth.invalid',
  GIT_COMMITTER_NAME: 'berth bench',
  GIT_COMMITTER_EMAIL: 'bench@berth.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_TERMINAL_PROMPT: '0',
}

export class Workspace {
  constructor() {
    /** Lower-case, so it survives compose's project-name normalisation unchanged. */
    this.tag = `bb${randomBytes(3).toString('hex')}`
    this.root = realpathSync(mkdtempSync(join(tmpdir(), `berth-bench-${this.tag}-`)))
    this.cleanups = []
  }

  /** A sub-folder of the workspace (created). */
  dir(...parts) {
    const path = join(this.root, ...parts)
    mkdirSync(path, { recursive: true })
    return path
  }

  /** Registers a cleanup; they run in reverse order in {@link cleanup}. */
  defer(label, fn) {
    this.cleanups.push({ label, fn })
  }

  /** The environment of every berth process: this BERTH_HOME, no colour, the fixed git identity. */
  env(home, extra = {}) {
    return { ...process.env, ...GIT_ENV, NO_COLOR: '1', BERTH_HOME: home, ...extra }
  }

  git(cwd, ...args) {
    return runOk('git', args, { cwd, env: { ...process.env, ...GIT_ENV } })
  }

  /**
   * A bare `origin.git` and a main checkout `<name>` inside `parent` set up as a clone of it
   * (tracking `origin/main`, `origin/HEAD` set), with `files` committed and pushed on `main`.
   * `copyDirs` maps a target folder in the repository to a folder to copy there.
   */
  async repository(parent, name, files, copyDirs = {}) {
    const origin = join(parent, `${name}-origin.git`)
    const main = join(parent, name)
    const env = { ...process.env, ...GIT_ENV }
    await runOk('git', ['init', '-q', '--bare', '-b', 'main', origin], { env })
    await runOk('git', ['init', '-q', '-b', 'main', main], { env })
    for (const [target, source] of Object.entries(copyDirs)) {
      cpSync(source, join(main, target), { recursive: true })
    }
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(main, path)), { recursive: true })
      writeFileSync(join(main, path), content)
    }
    await this.git(main, 'add', '-A')
    await this.git(main, 'commit', '-q', '-m', 'bench fixture')
    await this.git(main, 'remote', 'add', 'origin', origin)
    await this.git(main, 'push', '-q', '-u', 'origin', 'main')
    // As after `git clone`: origin/HEAD names the remote's default branch.
    await this.git(main, 'remote', 'set-head', 'origin', 'main')
    return { origin, main }
  }

  /** A clone of `origin` at `<parent>/<name>` (objects shared, so it is cheap). */
  async clone(origin, parent, name) {
    const path = join(parent, name)
    await runOk('git', ['clone', '-q', '--shared', origin, path], { env: { ...process.env, ...GIT_ENV } })
    return path
  }

  /** Runs every deferred cleanup (newest first), then the docker sweep, then removes the folder. */
  async cleanup(log) {
    const problems = []
    for (const { label, fn } of this.cleanups.reverse()) {
      try {
        await fn()
      } catch (error) {
        problems.push(`${label}: ${summary(error)}`)
      }
    }
    this.cleanups = []
    try {
      const swept = await sweepDocker(this.tag)
      if (swept > 0) log?.(`swept ${swept} leftover docker object(s) tagged ${this.tag}`)
    } catch (error) {
      problems.push(`docker sweep: ${summary(error)}`)
    }
    if (existsSync(this.root)) rmSync(this.root, { recursive: true, force: true })
    return problems
  }
}

/** The first line of an error and the last non-empty line of the output it carries. */
function summary(error) {
  const lines = String(error.message ?? error)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  return lines.length > 1 ? `${lines[0]} … ${lines[lines.length - 1]}` : (lines[0] ?? '')
}

/**
 * Removes every container, then network, then volume whose compose project label starts with
 * `tag`. Returns how many objects it removed.
 */
export async function sweepDocker(tag) {
  const label = '{{.Label "com.docker.compose.project"}}'
  const list = async (args) => {
    const result = await run('docker', args)
    if (result.code !== 0) return []
    return result.stdout
      .split('\n')
      .map((line) => line.trim().split(' '))
      .filter(([id, project]) => id && project?.startsWith(tag))
      .map(([id]) => id)
  }
  let removed = 0
  const containers = await list([
    'ps',
    '-a',
    '--filter',
    'label=com.docker.compose.project',
    '--format',
    `{{.ID}} ${label}`,
  ])
  if (containers.length > 0) {
    await run('docker', ['rm', '-f', '-v', ...containers])
    removed += containers.length
  }
  const networks = await list([
    'network',
    'ls',
    '--filter',
    'label=com.docker.compose.project',
    '--format',
    `{{.ID}} ${label}`,
  ])
  if (networks.length > 0) {
    await run('docker', ['network', 'rm', ...networks])
    removed += networks.length
  }
  const volumes = await list([
    'volume',
    'ls',
    '--filter',
    'label=com.docker.compose.project',
    '--format',
    `{{.Name}} ${label}`,
  ])
  if (volumes.length > 0) {
    await run('docker', ['volume', 'rm', '-f', ...volumes])
    removed += volumes.length
  }
  return removed
}
