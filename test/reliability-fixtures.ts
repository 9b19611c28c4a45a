/**
 * Fixtures of the reliability tests (test/reliability*.test.ts): a repository holding a copy of
 * examples/demo plus a two-service stack (`compose.small.yaml`: PostgreSQL + backend, backend
 * health needs a PostgreSQL login) that starts in seconds, a `test:pause` plugin that parks `impl` at a chosen step,
 * a CLI runner that spawns berth in its own process group (so a test can SIGKILL it with all its
 * children), and helpers reading the registry. Ports: blocks of 100 in 57000-63999.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { demoRepo, removeProject } from './helpers/demo.js'
import { BERTH_BIN, type BerthResult, berth, berthEnv, testdir } from './helpers/index.js'

export const RUN = randomBytes(2).toString('hex')

let nextBlock = 57000 + Math.floor(Math.random() * 60) * 100
/** A block of 100 host ports no other reliability repository uses. */
export function portBlock(): number {
  const block = nextBlock
  nextBlock += 100
  if (nextBlock >= 64000) nextBlock = 57000
  return block
}

/**
 * db (the demo's PostgreSQL 15) + backend from the demo images. `BERTH_TEST_HOLD=1` in berth's
 * environment keeps db's health "starting" (so compose waits in `up` before starting backend);
 * `BERTH_TEST_DB_HOST` points backend elsewhere (so its health, and the gate, never pass);
 * `REL_EXTRA_PORT` publishes a third service (profile-free only in the `extra` variant) on a port
 * berth does not manage. The backend runs without a queue (no REDIS_HOST).
 */
export function smallCompose(options: { extra?: boolean } = {}): string {
  const extra = options.extra
    ? `  extra:
    image: berth-demo-observability:real
    command: ["node", "/app/server.mjs"]
    ports:
      - "127.0.0.1:\${REL_EXTRA_PORT:-1}:16686"
    volumes:
      - ./observability:/app:ro
`
    : ''
  return `services:
  db:
    image: berth-demo-postgres:real
    environment:
      INSTANCE_ID: \${INSTANCE_ID:-demo}
      POSTGRES_USER: demo
      POSTGRES_DB: demo
      POSTGRES_PASSWORD: \${DB_PASSWORD:-localdev}
      BERTH_TEST_HOLD: \${BERTH_TEST_HOLD:-0}
    ports:
      - "127.0.0.1:\${KTRDR_DB_PORT:-5432}:5432"
    volumes:
      - dbdata:/var/lib/postgresql/data
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD", "/bin/sh", "-c", "[ \\"$$BERTH_TEST_HOLD\\" != 1 ] && pg_isready -h 127.0.0.1 -U demo -q"]
      interval: 1s
      timeout: 3s
      retries: 3
      start_period: 120s
  backend:
    image: berth-demo-backend:real
    command: ["node", "/app/server.mjs"]
    environment:
      INSTANCE_ID: \${INSTANCE_ID:-demo}
      DB_PASSWORD: \${DB_PASSWORD:-localdev}
      DB_HOST: \${BERTH_TEST_DB_HOST:-db}
      DEMO_API_KEY: \${DEMO_API_KEY:-}
    ports:
      - "127.0.0.1:\${KTRDR_API_PORT:-8000}:8000"
    volumes:
      - ./backend:/app:ro
    stop_grace_period: 2s
    depends_on:
      db:
        condition: service_healthy
${extra}volumes:
  dbdata:
`
}

/** `test:pause`: steps that, when `BERTH_TEST_PAUSE` names them, write a marker and wait for `<marker>.go`. */
export const PAUSE_PLUGIN = `import { existsSync, writeFileSync } from 'node:fs'
const pause = (point) => ({
  description: 'test: park here while BERTH_TEST_PAUSE=' + point,
  async run() {
    if (process.env.BERTH_TEST_PAUSE !== point) return
    const marker = process.env.BERTH_TEST_MARKER
    writeFileSync(marker, String(process.pid))
    const until = Date.now() + 120000
    while (!existsSync(marker + '.go') && Date.now() < until) await new Promise((r) => setTimeout(r, 50))
  },
})
export default {
  name: 'test:pause',
  version: '0.0.0',
  steps: { 'after-claim': pause('after-claim'), 'after-worktree': pause('after-worktree') },
}
`

export const PAUSE_PIPELINES = {
  impl: {
    insert: [
      { step: 'pause.after-claim', after: 'registry.claim' },
      { step: 'pause.after-worktree', after: 'worktree.create' },
    ],
  },
}

/** The berth config of a small-stack repository. */
export function smallConfig(project: string, block: number, extra: Record<string, unknown> = {}) {
  return {
    project,
    compose: { files: ['compose.small.yaml'] },
    // slot N: API block+N, DB block+30+N (slots 0..20 never overlap)
    ports: { KTRDR_API_PORT: { base: block }, KTRDR_DB_PORT: { base: block + 30 } },
    slots: { pool: [1, 2, 3], max: 20 },
    secrets: { provider: 'none', defaults: { DB_PASSWORD: 'localdev' } },
    gate: {
      timeout: 60,
      checks: [{ name: 'backend', http: 'http://127.0.0.1:${KTRDR_API_PORT}/api/v1/health', service: 'backend' }],
    },
    ...extra,
  }
}

export interface RelRepo {
  dir: string
  home: string
  repo: string
  project: string
  block: number
  run(args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<BerthResult>
  /** Instance id (= compose project) of `impl <feature>`. */
  id(feature: string): string
  /** Worktree folder of `impl <feature>`. */
  tree(feature: string): string
  /** `done --force` for every registered instance, the engine sweep of our projects, the folder. */
  cleanup(): Promise<void>
}

/** Every compose project a reliability test may have made: the `after` sweeps remove exactly these. */
export const ourProjects = new Set<string>()

export async function relRepo(
  label: string,
  options: {
    config?: (project: string, block: number) => Record<string, unknown>
    extraCompose?: boolean
    pause?: boolean
    /** More files to commit into the repository (path relative to it -> content). */
    files?: Record<string, string>
  } = {},
): Promise<RelRepo> {
  const { dir, cleanup: removeDir } = testdir(`berth-rel-${label}-`)
  const project = `rel${RUN}-${label}`
  const block = portBlock()
  const made = options.config?.(project, block) ?? smallConfig(project, block)
  // The extra service publishes a port berth does not manage, on purpose: lint must let it, and
  // rendering (which would give it a port of the instance) is off, as for a team that sets its ports.
  const base = options.extraCompose
    ? {
        ...made,
        compose: { ...(made.compose as object), lint: { allowFixedPorts: ['extra'] }, render: { enabled: false } },
      }
    : made
  const config = options.pause ? { ...base, plugins: ['./pause.mjs'], pipelines: PAUSE_PIPELINES } : base
  const { repo } = await demoRepo(dir, project, config, (checkout) => {
    writeFileSync(join(checkout, 'compose.small.yaml'), smallCompose({ extra: options.extraCompose }))
    if (options.pause) writeFileSync(join(checkout, 'pause.mjs'), PAUSE_PLUGIN)
    for (const [path, content] of Object.entries(options.files ?? {})) {
      mkdirSync(dirname(join(checkout, path)), { recursive: true })
      writeFileSync(join(checkout, path), content)
    }
  })
  const home = join(dir, 'home')
  let cleaned = false
  const rel: RelRepo = {
    dir,
    home,
    repo,
    project,
    block,
    run(args, runOptions = {}) {
      if (args[0] === 'impl' && args[1]) ourProjects.add(rel.id(args[1]))
      return berth(args, {
        cwd: runOptions.cwd ?? repo,
        home,
        env: runOptions.env,
        timeoutMs: runOptions.timeoutMs ?? 180_000,
      })
    },
    id: (feature) => `${project}-impl-${feature}`,
    tree: (feature) => join(dir, `${project}-impl-${feature}`),
    async cleanup() {
      if (cleaned) return
      cleaned = true
      for (const id of registryIds(home)) ourProjects.add(id)
      await Promise.all(
        registryIds(home).map((id) => berth(['done', id, '--force'], { cwd: repo, home }).catch(() => undefined)),
      )
      await Promise.all(
        [...ourProjects].filter((p) => p.startsWith(project)).map((p) => removeProject(p).catch(() => undefined)),
      )
      removeDir()
    },
  }
  return rel
}

export function registryFile(home: string): string {
  return join(home, 'registry.json')
}

export function registryIds(home: string): string[] {
  const file = registryFile(home)
  if (!existsSync(file)) return []
  return (JSON.parse(readFileSync(file, 'utf8')).instances as { id: string }[]).map((r) => r.id)
}

export function registryBytes(home: string): Buffer | null {
  const file = registryFile(home)
  return existsSync(file) ? readFileSync(file) : null
}

/** The shared helper, for the reliability tests that import it from here. */
export { expectExit } from './helpers/index.js'

export interface Spawned {
  child: ChildProcess
  /** stderr so far. */
  stderr(): string
  /** stdout so far (empty unless spawned with `stdout: true`). */
  stdout(): string
  /** Resolves with the exit code (or the signal name) once the process is gone. */
  exited: Promise<number | string>
  /** SIGKILL to the whole process group: berth and every child it started (git, compose). */
  killGroup(): void
}

/** berth in its own process group, as a person's shell runs it. */
export function spawnBerth(
  args: string[],
  options: { cwd: string; home: string; env?: NodeJS.ProcessEnv; stdout?: boolean },
): Spawned {
  const child = spawn(process.execPath, [BERTH_BIN, ...args], {
    cwd: options.cwd,
    env: berthEnv(options.home, options.env),
    stdio: ['ignore', options.stdout ? 'pipe' : 'ignore', 'pipe'],
    detached: true,
  })
  let stderr = ''
  let stdout = ''
  child.stderr?.on('data', (chunk) => (stderr += chunk))
  child.stdout?.on('data', (chunk) => (stdout += chunk))
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  )
  return {
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited,
    killGroup() {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    },
  }
}

/** Polls `probe` every `everyMs` until it returns true; fails the test after `ms`. */
export async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 60_000, everyMs = 50) {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      if (await probe()) return
    } catch {}
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, everyMs))
  }
}

// biome-ignore lint/suspicious/noExplicitAny: doctor's JSON is read field by field
export type Check = { check: string; status: string; detail: string; hint?: string } & Record<string, any>
export type RepairLine = { action: string; status: string; detail?: string }

/** The doctor checks whose detail mentions `needle`. */
export function checksAbout(json: { checks: Check[] }, needle: string): Check[] {
  return json.checks.filter((c) => c.detail.includes(needle))
}
