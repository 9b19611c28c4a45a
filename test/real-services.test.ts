/**
 * The demo on real services, end to end through the real CLI and engine: PostgreSQL logins with
 * each instance's own password from the stand-in `op`, a slot re-claimed with a new password, a
 * kept volume that refuses a changed password (the gate says so and names the command that fixes
 * it), the lifecycle hooks (migrations, seeds once per fresh volume, a dump before down, a failing
 * hook), `berth exec`, and the short stop grace of `done`.
 *
 * Each repository has its own project name (`rsv<run>-<label>`), BERTH_HOME and block of 100
 * host ports in 30000-39999; what a test starts is removed with `done --force`, and an engine
 * sweep removes anything still labelled with a project this file made.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  buildDemoImages,
  countProjectObjects,
  demoConfig,
  demoItem,
  demoRepo,
  engine,
  getJson,
  pgQuery,
  projectObjects,
  readEnvFile,
  removeProject,
  waitFor,
} from './helpers/demo.js'
import { type BerthResult, berth, expectExit, FIXTURE_BIN, git, testdir } from './helpers/index.js'

const RUN = randomBytes(2).toString('hex')
const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }
let nextBlock = 30000 + Math.floor(Math.random() * 90) * 100
const ourProjects = new Set<string>()
const cleanups: (() => Promise<void>)[] = []

after(
  async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 180_000 },
)

interface Repo {
  dir: string
  home: string
  repo: string
  block: number
  /** Writes the stand-in 1Password item the next commands read. */
  secrets(values: { db: string; redis?: string }): void
  run(args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<BerthResult>
  id(feature: string): string
  tree(feature: string): string
  env(feature: string): Record<string, string>
}

/** A config as a test edits it: the fields of berth.config.json (hooks is a list). */
type EditableConfig = Record<string, unknown> & { hooks: object[] }

async function realRepo(
  label: string,
  options: { config?: (config: EditableConfig) => void; edit?: (repo: string) => void } = {},
): Promise<Repo> {
  await engine('/_ping')
  await buildDemoImages()
  const { dir, cleanup: removeDir } = testdir(`berth-real-${label}-`)
  const project = `rsv${RUN}-${label}`
  const block = nextBlock
  nextBlock += 100
  const config = demoConfig(project, block) as EditableConfig
  options.config?.(config)
  const { repo } = await demoRepo(dir, project, config, options.edit)
  const home = join(dir, 'home')
  const items = join(dir, 'op-items.json')
  const baseEnv = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, OP_STANDIN_ITEMS: items }
  const features = new Set<string>()
  const self: Repo = {
    dir,
    home,
    repo,
    block,
    secrets: (values) => writeFileSync(items, JSON.stringify({ 'demo-item': demoItem(values) })),
    run(args, runOptions = {}) {
      if (args[0] === 'impl' && args[1]) {
        features.add(args[1])
        ourProjects.add(self.id(args[1]))
      }
      return berth(args, {
        cwd: runOptions.cwd ?? repo,
        home,
        env: { ...baseEnv, ...runOptions.env },
        timeoutMs: 300_000,
      })
    },
    id: (feature) => `${project}-impl-${feature}`,
    tree: (feature) => join(dir, `${project}-impl-${feature}`),
    env: (feature) => readEnvFile(join(self.tree(feature), '.env.sandbox')),
  }
  self.secrets({ db: `first-${RUN}` })
  cleanups.push(async () => {
    await Promise.all(
      [...features].map((feature) => berth(['done', feature, '--force'], { cwd: repo, home }).catch(() => undefined)),
    )
    await Promise.all([...features].map((feature) => removeProject(self.id(feature)).catch(() => undefined)))
    removeDir()
  })
  return self
}

/** The PostgreSQL error code a login from the host gets (`ok` when it succeeds). */
async function login(port: number, password: string): Promise<string> {
  try {
    await pgQuery(port, password, 'SELECT 1')
    return 'ok'
  } catch (error) {
    return String((error as { code?: unknown }).code ?? (error as Error).message)
  }
}

async function greetings(port: number, password: string): Promise<number> {
  const rows = await pgQuery(port, password, 'SELECT count(*)::int AS n FROM greetings')
  return rows[0]?.n as number
}

describe('the demo on real PostgreSQL, Redis and Prometheus', { concurrency: 2 }, () => {
  test('two instances each take their own password: a login from the host works with it and the other one is refused; a re-claimed slot starts on a fresh volume; a kept volume with an old password fails the gate naming authentication and the command that resets it', {
    timeout: 900_000,
  }, async () => {
    const r = await realRepo('pw')
    const pw = { a: `pw-a-${RUN}`, b: `pw-b-${RUN}`, c: `pw-c-${RUN}`, b2: `pw-b2-${RUN}` }

    r.secrets({ db: pw.a })
    const implA = expectExit(await r.run(['impl', 'a', '--json']), 0, 'impl a')
    assert.equal(implA.json.gate.passed, true)
    const kinds = Object.fromEntries(
      implA.json.gate.checks.map((c: { name: string; kind: string }) => [c.name, c.kind]),
    )
    assert.equal(kinds.db, 'postgres')
    assert.equal(kinds.queue, 'redis')
    // The workers' queue: a job goes through Redis to a worker and back (the demo's own e2e test).
    // (Run while the stand-in op still serves a's password: `test e2e` starts compose with it.)
    expectExit(await r.run(['test', 'e2e'], { cwd: r.tree('a') }), 0, 'test e2e in a')
    r.secrets({ db: pw.b })
    expectExit(await r.run(['impl', 'b']), 0, 'impl b')

    const port = (feature: string) => Number(r.env(feature).KTRDR_DB_PORT)
    assert.equal(await login(port('a'), pw.a), 'ok', "a accepts a's password")
    assert.equal(await login(port('b'), pw.b), 'ok', "b accepts b's password")
    assert.equal(await login(port('a'), pw.b), '28P01', "a refuses b's password")
    assert.equal(await login(port('b'), pw.a), '28P01', "b refuses a's password")
    assert.equal(await greetings(port('a'), pw.a), 3, 'the seed hook loaded the seed data')

    // Prometheus scrapes the backend and the four workers of its own instance.
    let up: string[] = []
    const scraping = await waitFor(async () => {
      const targets = await getJson(`http://127.0.0.1:${r.env('a').KTRDR_PROMETHEUS_PORT}/api/v1/targets`)
      up = targets.body.data.activeTargets
        .filter((t: { health: string }) => t.health === 'up')
        .map((t: { scrapeUrl: string }) => t.scrapeUrl)
      return up.length >= 6
    }, 30_000)
    assert.ok(scraping, `prometheus targets up: ${up.join(', ')}`)
    for (const target of ['backend:8000', 'worker-1:5000', 'worker-4:5000']) {
      assert.ok(
        up.some((url) => url.includes(target)),
        `${target} is scraped`,
      )
    }

    // Slot reuse: a's slot goes to c, with a new password: a fresh volume, and logins work.
    const slotA = r.env('a').SLOT_NUMBER
    expectExit(await r.run(['done', 'a', '--force']), 0, 'done a')
    assert.deepEqual(await countProjectObjects(r.id('a')), NO_OBJECTS)
    r.secrets({ db: pw.c })
    expectExit(await r.run(['impl', 'c']), 0, 'impl c on the released slot')
    assert.equal(r.env('c').SLOT_NUMBER, slotA, 'c has the slot a released')
    assert.equal(await login(port('c'), pw.c), 'ok', 'the new password logs in')
    assert.equal(await login(port('c'), pw.a), '28P01', 'the old one does not')
    assert.equal(await greetings(port('c'), pw.c), 3, 'the fresh volume was seeded')

    // The failure berth must explain: down keeps the volume, the password changes, up.
    expectExit(await r.run(['sandbox', 'down'], { cwd: r.tree('b') }), 0, 'sandbox down b')
    r.secrets({ db: pw.b2 })
    const failed = expectExit(
      await r.run(['sandbox', 'up', '--timeout', '60', '--json'], { cwd: r.tree('b') }),
      1,
      'sandbox up b with a changed password',
    )
    const error = failed.json.error
    assert.equal(error.code, 'E_GATE')
    assert.match(
      error.message,
      /db \(postgres:\/\/demo@127\.0\.0\.1:\d+\/demo\) — authentication failed: password authentication failed/,
    )
    assert.match(error.message, /a volume kept from an earlier start still holds the old password/)
    assert.match(
      error.message,
      /berth sandbox down --volumes && berth sandbox up/,
      'names the command that resets the volume',
    )
    assert.ok(
      error.details.gate.elapsedMs < 30_000,
      `a refused password fails at once, not at the deadline (${error.details.gate.elapsedMs} ms)`,
    )
    assert.doesNotMatch(failed.stdout + failed.stderr, new RegExp(`${pw.b}|${pw.b2}`), 'no password in the output')
    const running = (await projectObjects(r.id('b'))).containers.filter((c) => c.State === 'running')
    assert.ok(
      running.some((c) => c.Labels['com.docker.compose.service'] === 'db'),
      'the stack stays up for inspection',
    )
    assert.equal(await login(port('b'), pw.b), 'ok', 'the volume still holds the old password')
    // The command it names fixes it.
    expectExit(await r.run(['sandbox', 'down', '--volumes'], { cwd: r.tree('b') }), 0, 'sandbox down --volumes')
    expectExit(await r.run(['sandbox', 'up'], { cwd: r.tree('b') }), 0, 'sandbox up on a fresh volume')
    assert.equal(await login(port('b'), pw.b2), 'ok', 'the new password logs in')

    for (const feature of ['b', 'c']) expectExit(await r.run(['done', feature, '--force']), 0, `done ${feature}`)
    for (const feature of ['a', 'b', 'c']) assert.deepEqual(await countProjectObjects(r.id(feature)), NO_OBJECTS)
  })

  test('hooks: a failing hook makes impl exit 1 with its output tail and leave nothing behind; a before-down hook dumps the database into the evidence bundle; berth exec runs a command in a service with its exit code and redacted output; done stops a stubborn service with a short grace', {
    timeout: 900_000,
  }, async () => {
    const r = await realRepo('hooks', {
      config(config) {
        config.hooks = [
          ...config.hooks,
          {
            name: 'guard',
            when: 'after-up',
            service: 'backend',
            env: ['HOOK_FAIL'],
            command: 'if [ "$HOOK_FAIL" = 1 ]; then echo "guard refuses: HOOK_FAIL=1" >&2; exit 4; fi; echo guard ok',
          },
          {
            name: 'dump',
            when: 'before-down',
            service: 'db',
            command: 'pg_dump -U demo -d demo --schema-only | grep -c "CREATE TABLE"',
          },
        ]
      },
    })
    const secret = `pw-hooks-${RUN}`
    r.secrets({ db: secret })

    const bad = await r.run(['impl', 'bad'], { env: { HOOK_FAIL: '1' } })
    expectExit(bad, 1, 'impl bad with a failing hook')
    assert.match(bad.stderr, /hook guard \(after-up, exec in backend\) exited 4/)
    assert.match(bad.stderr, /guard refuses: HOOK_FAIL=1/, 'the hook output tail is shown')
    assert.deepEqual(await countProjectObjects(r.id('bad')), NO_OBJECTS, 'no container, volume or network')
    assert.equal(existsSync(r.tree('bad')), false, 'no worktree')
    assert.equal((await git(r.repo, 'branch', '--list', 'impl/bad')).trim(), '', 'no branch')

    const good = expectExit(await r.run(['impl', 'good', '--json'], { env: { HOOK_FAIL: '0' } }), 0, 'impl good')
    assert.deepEqual(
      good.json.hooks.map((h: { name: string; status: string }) => [h.name, h.status]),
      [
        ['migrate', 'passed'],
        ['seed', 'passed'],
        ['guard', 'passed'],
      ],
    )
    const cwd = r.tree('good')
    const migrations = await pgQuery(
      Number(r.env('good').KTRDR_DB_PORT),
      secret,
      'SELECT version FROM schema_migrations ORDER BY 1',
    )
    assert.deepEqual(
      migrations.map((row) => row.version),
      [1, 2],
      'the migrate hook made the schema on the first up',
    )

    const exec = await r.run(['exec', 'backend', '--', 'sh', '-c', 'echo "password=$DB_PASSWORD"; exit 3'], { cwd })
    expectExit(exec, 3, 'berth exec exits with the command’s code')
    assert.match(exec.stdout, /^password=\*\*\*$/m, 'the secret is redacted')
    assert.ok(!exec.stdout.includes(secret) && !exec.stderr.includes(secret))
    const tables = expectExit(
      await r.run(
        ['exec', 'db', '--json', '--', 'psql', '-U', 'demo', '-d', 'demo', '-Atc', 'SELECT count(*) FROM greetings'],
        {
          cwd,
        },
      ),
      0,
      'berth exec db psql',
    )
    assert.equal(tables.json.exec.output, '3')
    expectExit(await r.run(['exec', 'nosuch', '--', 'true'], { cwd }), 2, 'exec in an unknown service')

    const down = expectExit(await r.run(['sandbox', 'down', '--json'], { cwd }), 0, 'sandbox down with a dump hook')
    assert.deepEqual(
      down.json.hooks.map((h: { name: string; status: string; output: string }) => [h.name, h.status, h.output]),
      [['dump', 'passed', '3']],
      'the dump ran before the stack stopped',
    )
    const bundle = down.json.evidenceDir as string
    const recorded = JSON.parse(readFileSync(join(bundle, 'hooks.json'), 'utf8'))
    assert.equal(recorded[0].name, 'dump')

    // A service that ignores SIGTERM and asks for a 120 s grace: `down` would wait that long.
    const file = join(cwd, 'compose.yaml')
    const stubborn = [
      '  stubborn:',
      '    image: berth-demo-base:local',
      '    command: ["sh", "-c", "trap \\"\\" TERM INT; while :; do sleep 1; done"]',
      '    stop_grace_period: 120s',
      '',
    ].join('\n')
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^volumes:\n/m, `${stubborn}\nvolumes:\n`))
    expectExit(
      await r.run(['sandbox', 'up'], { cwd, env: { HOOK_FAIL: '0' } }),
      0,
      'sandbox up with the stubborn service',
    )
    const started = Date.now()
    expectExit(await r.run(['done', 'good', '--force']), 0, 'done good')
    const took = Date.now() - started
    // compose.destroyGrace (3 s) instead of the service's 120 s: generous headroom for a loaded machine.
    assert.ok(took < 60_000, `done took ${took} ms`)
    assert.deepEqual(await countProjectObjects(r.id('good')), NO_OBJECTS)
  })
})
