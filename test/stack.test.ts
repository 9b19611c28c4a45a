/**
 * Running stacks end to end: the real `berth` CLI starts copies of examples/demo (PostgreSQL,
 * Redis, backend, four workers, Prometheus, observability) on the real Docker engine and Compose,
 * with the repository's own berth config (hooks, gate), and the tests look
 * at what a person would: the APIs on their published ports, the engine's containers, volumes and
 * networks (by compose label, through the engine API), the processes' argv, the files on disk.
 *
 * Every repository gets its own project name (`stk<run>-<label>`), BERTH_HOME and block of 100
 * host ports in 40000-50000 (slot N of the block never meets another block's). Each test removes
 * what it started with `berth done --force`; a safety net then removes, through the engine API,
 * anything still labelled with a compose project this file made — never any other project.
 * Without a Docker engine every test fails with the reason (none is skipped).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, type TestContext, test } from 'node:test'
import {
  berthTimed,
  buildDemoImages,
  countProjectObjects,
  DEMO_GREETING,
  demoConfig,
  demoItem,
  demoRepo,
  engine,
  fileSize,
  getJson,
  hostBindings,
  inspectContainer,
  lineOf,
  pgQuery,
  projectObjects,
  readEnvFile,
  removeProject,
  rootConfig,
  serviceContainer,
  waitFor,
  walkFiles,
} from './helpers/demo.js'
import { type BerthResult, berth, expectExit, FIXTURE_BIN, git, testdir } from './helpers/index.js'

const RUN = randomBytes(2).toString('hex')
const SERVICES = [
  'backend',
  'db',
  'observability',
  'prometheus',
  'redis',
  'worker-1',
  'worker-2',
  'worker-3',
  'worker-4',
]
const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }

// Blocks of 100 ports from a random start, so a leftover of an earlier run is unlikely to sit on them.
let nextBlock = 40000 + Math.floor(Math.random() * 90) * 100
/** Every compose project name this file may have created: the safety net removes exactly these. */
const ourProjects = new Set<string>()
const cleanups: (() => Promise<void>)[] = []

interface DemoStack {
  dir: string
  home: string
  repo: string
  project: string
  block: number
  /** Runs berth in the main clone (or `cwd`), with this stack's BERTH_HOME. */
  run(args: string[], options?: { cwd?: string; env?: NodeJS.ProcessEnv }): Promise<BerthResult>
  /** The instance id (= compose project) `impl <feature>` makes. */
  id(feature: string): string
  /** The worktree `impl <feature>` makes. */
  tree(feature: string): string
  /** `done --force` for each instance still registered, then the engine sweep, then the folder. */
  cleanup(): Promise<void>
}

/** A repository holding examples/demo + a berth config, with its own BERTH_HOME and port block. */
async function demoStack(
  label: string,
  options: {
    extraChecks?: (block: number) => object[]
    edit?: (repo: string) => void
    /** Another stack's BERTH_HOME and port block: two repositories on one machine and one layout. */
    shareWith?: DemoStack
  } = {},
): Promise<DemoStack> {
  const { dir, cleanup: removeDir } = testdir(`berth-stack-${label}-`)
  const project = `stk${RUN}-${label}`
  const block = options.shareWith?.block ?? nextBlock
  if (!options.shareWith) nextBlock += 100
  const { repo } = await demoRepo(dir, project, demoConfig(project, block, options.extraChecks?.(block)), options.edit)
  const home = options.shareWith?.home ?? join(dir, 'home')
  const features = new Set<string>()
  let cleaned = false
  const stack: DemoStack = {
    dir,
    home,
    repo,
    project,
    block,
    run(args, runOptions = {}) {
      if (args[0] === 'impl' && args[1]) {
        features.add(args[1])
        ourProjects.add(stack.id(args[1]))
      }
      return berth(args, { cwd: runOptions.cwd ?? repo, home, env: runOptions.env, timeoutMs: 240_000 })
    },
    id: (feature) => `${project}-impl-${feature}`,
    tree: (feature) => join(dir, `${project}-impl-${feature}`),
    async cleanup() {
      if (cleaned) return
      cleaned = true
      const registered = registryIds(home)
      await Promise.all(
        [...features]
          .filter((feature) => registered.includes(stack.id(feature)))
          .map((feature) => berth(['done', feature, '--force'], { cwd: repo, home }).catch(() => undefined)),
      )
      await Promise.all([...features].map((feature) => removeProject(stack.id(feature)).catch(() => undefined)))
      removeDir()
    },
  }
  cleanups.push(() => stack.cleanup())
  return stack
}

function registryIds(home: string): string[] {
  const file = join(home, 'registry.json')
  if (!existsSync(file)) return []
  return (JSON.parse(readFileSync(file, 'utf8')).instances as { id: string }[]).map((r) => r.id)
}

/** Fails with the command's whole output unless it exited with `code`. */

async function branchExists(repo: string, branch: string): Promise<boolean> {
  return (await git(repo, 'branch', '--list', branch)).trim() !== ''
}

let engineReady: Promise<void> | undefined
/**
 * The engine answers and the demo images exist. Awaited at the start of every test (not in a
 * `before` hook, whose failure node:test reports as cancelled tests): without an engine each
 * test fails with the reason.
 */
function ensureEngine(): Promise<void> {
  engineReady ??= (async () => {
    await engine('/_ping')
    await buildDemoImages()
  })()
  return engineReady
}

/** A test that first needs the engine and the demo images. */
function stackTest(name: string, timeout: number, body: (t: TestContext) => Promise<void>): void {
  test(name, { timeout }, async (t) => {
    await ensureEngine()
    await body(t)
  })
}

after(
  async () => {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined)
    // The safety net: only projects this file named, whatever state the tests left them in.
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 180_000 },
)

// The two groups share nothing (own repositories, homes, ports), so they run side by side.
describe('berth runs demo stacks on the real Docker engine', { concurrency: 2 }, () => {
  describe('two instances of one repository', { concurrency: 1 }, () => {
    let pair: DemoStack
    const env: Record<string, Record<string, string>> = {}
    const apiUrl = (feature: string, path: string) => `http://127.0.0.1:${env[feature]!.KTRDR_API_PORT}${path}`

    after(() => pair?.cleanup(), { timeout: 120_000 })

    stackTest(
      'impl a and impl b run at once: both gates pass, each API answers on its own 127.0.0.1 port with its own id, volumes and networks are per instance',
      240_000,
      async () => {
        pair = await demoStack('pair')
        const [a, b] = await Promise.all([pair.run(['impl', 'a', '--json']), pair.run(['impl', 'b', '--json'])])
        for (const [feature, result] of [
          ['a', a],
          ['b', b],
        ] as const) {
          expectExit(result, 0, `impl ${feature}`)
          assert.equal(result.json?.gate?.passed, true, `impl ${feature}: gate passed`)
          env[feature] = readEnvFile(join(pair.tree(feature), '.env.sandbox'))
          assert.equal(env[feature]!.INSTANCE_ID, pair.id(feature))
        }
        assert.notEqual(env.a!.SLOT_NUMBER, env.b!.SLOT_NUMBER)
        assert.notEqual(env.a!.KTRDR_API_PORT, env.b!.KTRDR_API_PORT)
        assert.equal(Number(env.a!.KTRDR_API_PORT), pair.block + Number(env.a!.SLOT_NUMBER))

        const volumeNames: string[][] = []
        const networkNames: string[][] = []
        for (const feature of ['a', 'b']) {
          const id = pair.id(feature)
          const health = await getJson(apiUrl(feature, '/api/v1/health'))
          assert.equal(health.status, 200, JSON.stringify(health.body))
          assert.equal(health.body.status, 'ok')
          assert.equal(health.body.instance, id)
          assert.equal(health.body.db, 'ok')
          assert.equal(health.body.queue, 'ok')
          assert.equal(health.body.schema, 'ready', 'the migrate hook made the schema')
          const info = await getJson(apiUrl(feature, '/api/v1/info'))
          assert.equal(info.body.instance, id)
          assert.equal(String(info.body.slot), env[feature]!.SLOT_NUMBER)

          const objects = await projectObjects(id)
          assert.deepEqual(objects.containers.map((c) => c.Labels['com.docker.compose.service']).sort(), SERVICES)
          assert.ok(
            objects.volumes.some((v) => v.Name === `${id}_dbdata`),
            `${id} has its own dbdata volume`,
          )
          assert.ok(objects.networks.length > 0, `${id} has its own network`)
          for (const name of [...objects.volumes.map((v) => v.Name), ...objects.networks.map((n) => n.Name)]) {
            assert.ok(name.startsWith(`${id}_`), `${name} is namespaced by ${id}`)
          }
          volumeNames.push(objects.volumes.map((v) => v.Name))
          networkNames.push(objects.networks.map((n) => n.Name))

          const ownPorts = new Set(
            Object.entries(env[feature]!)
              .filter(([k]) => k.endsWith('_PORT') || /_PORT_\d+$/.test(k))
              .map(([, v]) => v),
          )
          for (const container of objects.containers) {
            const bindings = hostBindings(await inspectContainer(container.Id))
            assert.ok(bindings.length > 0, `${container.Names[0]} publishes a port`)
            for (const binding of bindings) {
              assert.equal(binding.HostIp, '127.0.0.1', `${container.Names[0]} binds ${binding.HostPort} to 127.0.0.1`)
              assert.ok(
                ownPorts.has(binding.HostPort),
                `${container.Names[0]} publishes ${binding.HostPort}, one of its slot's ports`,
              )
            }
          }
        }
        assert.deepEqual(
          volumeNames[0]!.filter((v) => volumeNames[1]!.includes(v)),
          [],
          'no shared volume',
        )
        assert.deepEqual(
          networkNames[0]!.filter((n) => networkNames[1]!.includes(n)),
          [],
          'no shared network',
        )

        const list = expectExit(await pair.run(['sandbox', 'list', '--json']), 0, 'sandbox list')
        for (const feature of ['a', 'b']) {
          const row = list.json.instances.find((i: { id: string }) => i.id === pair.id(feature))
          assert.ok(row, `sandbox list shows ${pair.id(feature)}`)
          assert.deepEqual(
            { state: row.state, running: row.running, total: row.total },
            { state: 'running', running: SERVICES.length, total: SERVICES.length },
          )
        }
      },
    )

    stackTest(
      "an edit of the backend source in one worktree changes only that instance's greeting (hot reload)",
      60_000,
      async () => {
        assert.ok(env.a && env.b, 'the instances of the previous test are running')
        const file = join(pair.tree('a'), 'backend/server.mjs')
        const source = readFileSync(file, 'utf8')
        assert.match(source, /^const GREETING = .*$/m)
        const greeting = `edited in worktree a ${RUN}`
        writeFileSync(file, source.replace(/^const GREETING = .*$/m, `const GREETING = '${greeting}'`))

        let last: unknown
        const reloaded = await waitFor(async () => {
          last = (await getJson(apiUrl('a', '/api/v1/health'))).body
          return (last as { greeting?: string }).greeting === greeting
        }, 10_000)
        assert.ok(reloaded, `a's health shows the new greeting within 10 s; last answer ${JSON.stringify(last)}`)
        const b = await getJson(apiUrl('b', '/api/v1/health'))
        assert.equal(b.body.greeting, DEMO_GREETING, "b's greeting is unchanged")
        assert.equal(b.body.instance, pair.id('b'))
      },
    )

    stackTest(
      'sandbox down then up keeps the db volume and its data and does not seed again; status reports containers and health, logs prints backend lines, gate alone passes',
      180_000,
      async () => {
        assert.ok(env.b, 'instance b of the first test is running')
        const id = pair.id('b')
        const cwd = pair.tree('b')
        const dbPort = Number(env.b.KTRDR_DB_PORT)
        const dbEnv = (await inspectContainer((await serviceContainer(id, 'db')).Id)).Config.Env ?? []
        const password = dbEnv.find((e) => e.startsWith('POSTGRES_PASSWORD='))?.slice('POSTGRES_PASSWORD='.length)
        assert.ok(password !== undefined, 'db has POSTGRES_PASSWORD')
        const marker = `kept-${RUN}`
        await pgQuery(dbPort, password, 'CREATE TABLE kept (marker text)')
        await pgQuery(dbPort, password, 'INSERT INTO kept VALUES ($1)', [marker])
        assert.equal(
          (await pgQuery(dbPort, password, 'SELECT count(*)::int AS n FROM greetings'))[0]?.n,
          3,
          'seeded once',
        )
        const volumeBefore = (await projectObjects(id)).volumes.find((v) => v.Name === `${id}_dbdata`)
        assert.ok(volumeBefore)

        expectExit(await pair.run(['sandbox', 'down', '--json'], { cwd }), 0, 'sandbox down')
        const stopped = await projectObjects(id)
        assert.equal(stopped.containers.filter((c) => c.State === 'running').length, 0, 'nothing runs after down')
        assert.ok(
          stopped.volumes.some((v) => v.Name === `${id}_dbdata`),
          'down keeps the db volume',
        )

        const up = expectExit(await pair.run(['sandbox', 'up', '--json'], { cwd }), 0, 'sandbox up')
        assert.equal(up.json.gate.passed, true)
        assert.deepEqual(
          up.json.hooks.map((hook: { name: string; status: string }) => [hook.name, hook.status]),
          [
            ['migrate', 'passed'],
            ['seed', 'skipped'],
          ],
          'migrations run on every up, the seed only on a fresh volume',
        )
        assert.ok((await projectObjects(id)).volumes.some((v) => v.Name === `${id}_dbdata`))
        assert.deepEqual(await pgQuery(dbPort, password, 'SELECT marker FROM kept'), [{ marker }], 'the data survived')
        assert.equal(
          (await pgQuery(dbPort, password, 'SELECT count(*)::int AS n FROM greetings'))[0]?.n,
          3,
          'not seeded again',
        )

        let status: BerthResult | undefined
        const allHealthy = await waitFor(async () => {
          status = expectExit(await pair.run(['sandbox', 'status', '--json'], { cwd }), 0, 'sandbox status')
          const containers = status.json.containers as { health: string }[]
          return containers.length === SERVICES.length && containers.every((c) => c.health === 'healthy')
        }, 30_000)
        assert.ok(allHealthy, `every container turns healthy: ${status?.stdout}`)
        const containers = status!.json.containers as {
          service: string
          state: string
          ports: { host: number; hostIp: string }[]
        }[]
        assert.deepEqual(containers.map((c) => c.service).sort(), SERVICES)
        assert.ok(containers.every((c) => c.state === 'running'))
        const backend = containers.find((c) => c.service === 'backend')!
        assert.deepEqual(
          backend.ports.map((p) => [p.hostIp, p.host]),
          [['127.0.0.1', Number(env.b.KTRDR_API_PORT)]],
        )

        const logs = expectExit(
          await pair.run(['sandbox', 'logs', 'backend', '--tail', '5'], { cwd }),
          0,
          'sandbox logs',
        )
        const backendLines = logs.stdout.split('\n').filter((line) => line.includes(`[backend ${id}]`))
        assert.ok(backendLines.length >= 1 && backendLines.length <= 5, `1-5 backend lines:\n${logs.stdout}`)
        assert.ok(!logs.stdout.includes(`[db ${id}]`), 'only backend lines')

        const gate = expectExit(await pair.run(['gate', '--json'], { cwd }), 0, 'gate')
        assert.equal(gate.json.gate.passed, true)
        assert.ok(gate.json.gate.checks.every((c: { status: string }) => c.status === 'passed'))
      },
    )

    stackTest(
      'done leaves no container, volume or network of the instance, removes its folder and frees its slot',
      120_000,
      async () => {
        assert.ok(env.a && env.b, 'the instances of the first test exist')
        const results = await Promise.all(['a', 'b'].map((feature) => pair.run(['done', feature, '--force', '--json'])))
        for (const [index, feature] of ['a', 'b'].entries()) {
          expectExit(results[index]!, 0, `done ${feature}`)
          assert.deepEqual(
            await countProjectObjects(pair.id(feature)),
            NO_OBJECTS,
            `nothing labelled ${pair.id(feature)} remains`,
          )
          assert.equal(existsSync(pair.tree(feature)), false, `${pair.tree(feature)} is gone`)
        }
        const slots = expectExit(await pair.run(['sandbox', 'slots', '--json']), 0, 'sandbox slots').json.slots as {
          slot: number
          state: string
        }[]
        for (const slot of [Number(env.a.SLOT_NUMBER), Number(env.b.SLOT_NUMBER)]) {
          assert.equal(slots.find((s) => s.slot === slot)?.state, 'free', `slot ${slot} is free`)
        }
        assert.deepEqual(registryIds(pair.home), [])
      },
    )
  })

  describe('two repositories on one port layout and one BERTH_HOME', { concurrency: 1 }, () => {
    let left: DemoStack
    let right: DemoStack
    // right shares left's BERTH_HOME (inside left's folder), so it is cleaned up first.
    after(
      async () => {
        await right?.cleanup()
        await left?.cleanup()
      },
      { timeout: 120_000 },
    )

    stackTest(
      "each impls the demo stack at the same moment: the second steps around the first one's ports, both run at once and every gate passes",
      300_000,
      async () => {
        left = await demoStack('left')
        right = await demoStack('right', { shareWith: left })
        const [l, r] = await Promise.all([left.run(['impl', 'f', '--json']), right.run(['impl', 'f', '--json'])])
        const results = [
          [left, l],
          [right, r],
        ] as const
        const env: Record<string, string>[] = []
        for (const [stack, result] of results) {
          expectExit(result, 0, `${stack.project}: impl f`)
          assert.equal(result.json?.gate?.passed, true, `${stack.project}: gate passed`)
          const checks = result.json.gate.checks as { name: string; status: string }[]
          assert.deepEqual(
            checks.map((c) => [c.name, c.status]),
            rootConfig().gate.checks.map((check: { name: string }) => [check.name, 'passed']),
          )
          env.push(readEnvFile(join(stack.tree('f'), '.env.sandbox')))
        }
        assert.deepEqual(env.map((e) => e.SLOT_NUMBER).sort(), ['1', '2'], 'one layout, so slots 1 and 2')
        // Whichever claimed second skipped slot 1, naming the other repository's instance.
        const [secondResult, firstStack] = l.json.instance.slot === 2 ? [l, right] : [r, left]
        const skipped = secondResult.json.skippedSlots as { slot: number; claims: { id: string }[] }[]
        assert.equal(skipped[0]?.slot, 1)
        assert.equal(skipped[0]?.claims[0]?.id, firstStack.id('f'))
        const ports = env.map((e) =>
          Object.entries(e)
            .filter(([k]) => /_PORT(_\d+)?$/.test(k))
            .map(([, v]) => v),
        )
        assert.deepEqual(
          ports[0]!.filter((p) => ports[1]!.includes(p)),
          [],
          'no host port is shared',
        )
        // Both at once: each API answers on its own port as its own instance, every service runs.
        for (const [index, [stack]] of results.entries()) {
          const health = await getJson(`http://127.0.0.1:${env[index]!.KTRDR_API_PORT}/api/v1/health`)
          assert.equal(health.status, 200, JSON.stringify(health.body))
          assert.equal(health.body.instance, stack.id('f'))
          const objects = await projectObjects(stack.id('f'))
          assert.equal(objects.containers.filter((c) => c.State === 'running').length, SERVICES.length)
        }
      },
    )
  })

  describe('failures, secrets and compose lint', { concurrency: 1 }, () => {
    stackTest(
      'a gate check that can never pass: sandbox up --timeout 5 exits 1 within 7 s of the gate starting, the stack still running, naming the check, its error, the backend log tail and the next commands; a failed impl rolls back everything',
      240_000,
      async (t) => {
        // block + 99 is in this stack's own block and never published: nothing ever listens there.
        const stack = await demoStack('gate', {
          extraChecks: (block) => [{ name: 'never', tcp: `127.0.0.1:${block + 99}`, service: 'backend' }],
        })
        t.after(() => stack.cleanup())
        const target = `127.0.0.1:${stack.block + 99}`

        await Promise.all([
          (async () => {
            expectExit(await stack.run(['impl', 'x', '--no-up']), 0, 'impl x --no-up')
            const id = stack.id('x')
            // A first start that does not wait (no gate, no hooks), so PostgreSQL has initialised its
            // volume before the 5 s gate below: that gate is about the check that never passes.
            expectExit(
              await stack.run(['sandbox', 'up', '--no-wait'], { cwd: stack.tree('x') }),
              0,
              'sandbox up --no-wait',
            )
            const initialised = await waitFor(async () => {
              const status = await stack.run(['sandbox', 'status', '--json'], { cwd: stack.tree('x') })
              return status.json.containers.some(
                (c: { service: string; health: string }) => c.service === 'db' && c.health === 'healthy',
              )
            }, 120_000)
            assert.ok(initialised, 'db turns healthy')
            const up = await berthTimed(['sandbox', 'up', '--timeout', '5', '--json'], {
              cwd: stack.tree('x'),
              home: stack.home,
            })
            expectExit(up, 1, 'sandbox up --timeout 5')
            const error = up.json.error
            assert.equal(error.code, 'E_GATE')
            assert.match(
              error.message,
              new RegExp(`never \\(${target.replace(/\./g, '\\.')}\\)`),
              'names the check and target',
            )
            assert.match(error.message, /ECONNREFUSED/, 'gives its last error')
            assert.match(
              error.message,
              new RegExp(`\\[backend ${id}\\] listening on 8000`),
              'includes a backend log line',
            )
            // The gate starts right after compose.up (its db check runs before the migrate hook).
            const gateStart = up.lineAt(/✔ compose\.up/)
            const gateFailed = up.lineAt(/✖ gate\.wait/)
            assert.ok(gateStart && gateFailed, `progress lines:\n${up.stderr}`)
            const timeline = up.lines.map((line) => `+${line.at - up.startedAt} ms ${line.text}`).join('\n')
            assert.ok(
              up.endedAt - gateStart <= 7000,
              `sandbox up exited ${up.endedAt - gateStart} ms after the gate started:\n${timeline}`,
            )
            assert.match(error.hint, /still running/)
            assert.match(error.hint, /berth sandbox logs backend/)
            assert.match(error.hint, /berth sandbox down/)
            const report = error.details.gate
            assert.equal(report.passed, false)
            assert.ok(report.elapsedMs <= 7000, `gate elapsed ${report.elapsedMs} ms`)
            const never = report.checks.find((c: { name: string }) => c.name === 'never')
            assert.equal(never.status, 'failed')
            assert.match(never.lastError, /ECONNREFUSED/)
            assert.ok(
              report.checks
                .filter((c: { name: string }) => c.name !== 'never')
                .every((c: { status: string }) => c.status === 'passed'),
            )
            const left = await projectObjects(id)
            assert.deepEqual(
              left.containers
                .filter((c) => c.State === 'running')
                .map((c) => c.Labels['com.docker.compose.service'])
                .sort(),
              SERVICES,
              'the stack stays up for inspection',
            )
            const status = expectExit(
              await stack.run(['sandbox', 'status', '--json'], { cwd: stack.tree('x') }),
              0,
              'sandbox status after the failed up',
            )
            assert.equal(status.json.state, 'running')
            expectExit(await stack.run(['done', 'x', '--force']), 0, 'done x')
            assert.deepEqual(await countProjectObjects(id), NO_OBJECTS, 'done removes it all')
          })(),
          (async () => {
            const id = stack.id('y')
            // Long enough for a fresh PostgreSQL to initialise on a loaded machine: the check that
            // fails is the one that never passes.
            const impl = await stack.run(['impl', 'y', '--timeout', '30'])
            expectExit(impl, 1, 'impl y --timeout 30')
            assert.match(impl.stderr, /gate failed: never/)
            assert.match(impl.stderr, new RegExp(`\\[backend ${id}\\]`), 'the backend log tail is shown')
            assert.deepEqual(await countProjectObjects(id), NO_OBJECTS, `nothing labelled ${id} remains`)
            assert.equal(existsSync(stack.tree('y')), false, 'no worktree folder')
            assert.ok(!(await git(stack.repo, 'worktree', 'list')).includes(id), 'no registered git worktree')
            assert.equal(await branchExists(stack.repo, 'impl/y'), false, 'the branch impl made is gone')
            assert.ok(!registryIds(stack.home).includes(id), 'no registry claim')
          })(),
        ])
      },
    )

    stackTest(
      '1Password secrets reach the containers as environment and nowhere else: no file, no argv, no berth output',
      240_000,
      async (t) => {
        const stack = await demoStack('secrets')
        t.after(() => stack.cleanup())
        const apiKey = `s3cr3t-${randomBytes(8).toString('hex')}`
        const dbPassword = `s3cr3t-${randomBytes(8).toString('hex')}`
        const redisPassword = `s3cr3t-${randomBytes(8).toString('hex')}`
        const secrets = [apiKey, dbPassword, redisPassword]
        const itemsFile = join(stack.dir, 'op-items.json')
        writeFileSync(
          itemsFile,
          JSON.stringify({ 'demo-item': demoItem({ db: dbPassword, redis: redisPassword, apiKey }) }),
        )
        const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, OP_STANDIN_ITEMS: itemsFile }
        const outputs: string[] = []
        const run = async (args: string[], cwd?: string) => {
          const result = await stack.run(args, { env, cwd })
          outputs.push(`$ berth ${args.join(' ')}\n${result.stdout}\n${result.stderr}`)
          return result
        }

        // Watch every process's argv while impl runs.
        let running = true
        const argvHits: string[] = []
        let sawCompose = false
        const watcher = (async () => {
          while (running) {
            for (const pid of readdirSync('/proc')) {
              if (!/^\d+$/.test(pid)) continue
              let argv: string
              try {
                argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
              } catch {
                continue
              }
              if (argv.includes('compose') && argv.includes(stack.id('s'))) sawCompose = true
              if (secrets.some((s) => argv.includes(s))) argvHits.push(`${pid}: ${argv}`)
            }
            await new Promise((r) => setTimeout(r, 20))
          }
        })()
        const impl = await run(['impl', 's', '--json']).finally(() => {
          running = false
        })
        await watcher
        expectExit(impl, 0, 'impl s')
        assert.deepEqual(argvHits, [], 'no process had a secret in its argv')
        assert.ok(sawCompose, "the watcher saw compose's process (so it was looking)")
        assert.equal(impl.json.secrets.source, 'op')
        assert.deepEqual([...impl.json.secrets.variables].sort(), ['DB_PASSWORD', 'DEMO_API_KEY', 'REDIS_PASSWORD'])
        assert.deepEqual(impl.json.secrets.defaulted, [])

        const id = stack.id('s')
        const backendEnv = (await inspectContainer((await serviceContainer(id, 'backend')).Id)).Config.Env ?? []
        assert.ok(backendEnv.includes(`DEMO_API_KEY=${apiKey}`), 'the backend container has DEMO_API_KEY from op')
        assert.ok(backendEnv.includes(`DB_PASSWORD=${dbPassword}`), 'the backend container has DB_PASSWORD from op')
        assert.ok(
          backendEnv.includes(`REDIS_PASSWORD=${redisPassword}`),
          'the backend container has REDIS_PASSWORD from op',
        )
        const envFile = readEnvFile(join(stack.tree('s'), '.env.sandbox'))
        const info = await getJson(`http://127.0.0.1:${envFile.KTRDR_API_PORT}/api/v1/info`)
        assert.equal(info.body.secretPresent, true)

        const cwd = stack.tree('s')
        // Read-only commands: run side by side.
        const reads = [
          ['sandbox', 'status'],
          ['sandbox', 'status', '--json'],
          ['sandbox', 'list'],
          ['sandbox', 'list', '--json'],
          ['sandbox', 'logs', '--tail', '100'],
          ['sandbox', 'logs', '--tail', '100', '--json'],
          ['gate', '--json'],
        ]
        const readResults = await Promise.all(reads.map((args) => run(args, cwd)))
        for (const [index, result] of readResults.entries()) expectExit(result, 0, reads[index]!.join(' '))
        assert.match(readResults[4]!.stdout, new RegExp(`\\[backend ${id}\\]`), 'logs printed backend lines')

        for (const root of [stack.tree('s'), stack.home, stack.repo]) {
          for (const file of walkFiles(root)) {
            if (fileSize(file) > 50_000_000) continue
            const content = readFileSync(file)
            for (const secret of secrets) assert.ok(!content.includes(secret), `${file} holds a secret value`)
          }
        }

        expectExit(await run(['done', 's', '--force', '--json']), 0, 'done s')
        for (const output of outputs) {
          for (const secret of secrets) assert.ok(!output.includes(secret), `berth printed a secret value:\n${output}`)
        }
        assert.deepEqual(await countProjectObjects(id), NO_OBJECTS)
      },
    )

    stackTest(
      'with rendering off, a compose file with container_name or a fixed host port is refused with exit 2 and compose.yaml:<line>, and nothing starts',
      180_000,
      async (t) => {
        const publishedApi = '"127.0.0.1:${KTRDR_API_PORT:-8000}:8000"'
        let fixedPortLine = 0
        const stack = await demoStack('lint', {
          edit(repo) {
            const file = join(repo, 'compose.yaml')
            const text = readFileSync(file, 'utf8')
            assert.ok(text.includes(publishedApi))
            const broken = text.replace(publishedApi, '"8080:80"')
            writeFileSync(file, broken)
            fixedPortLine = lineOf(broken, '"8080:80"')
            // The team parameterises its compose file itself: berth runs it as it is, and lint guards it.
            const configFile = join(repo, 'berth.config.json')
            const config = JSON.parse(readFileSync(configFile, 'utf8'))
            config.compose = { ...config.compose, render: { enabled: false } }
            writeFileSync(configFile, JSON.stringify(config, null, 2))
          },
        })
        t.after(() => stack.cleanup())

        await Promise.all([
          (async () => {
            const id = stack.id('w')
            const impl = await stack.run(['impl', 'w'])
            expectExit(impl, 2, 'impl w with a fixed host port')
            assert.ok(
              impl.stderr.includes(`compose.yaml:${fixedPortLine}`),
              `names compose.yaml:${fixedPortLine}:\n${impl.stderr}`,
            )
            assert.match(impl.stderr, /8080/)
            assert.deepEqual(await countProjectObjects(id), NO_OBJECTS, 'nothing started')
            assert.equal(existsSync(stack.tree('w')), false, 'the worktree impl made is removed again')
            assert.ok(!registryIds(stack.home).includes(id), 'no registry claim')
          })(),
          (async () => {
            const id = stack.id('v')
            expectExit(await stack.run(['impl', 'v', '--no-up']), 0, 'impl v --no-up')
            const file = join(stack.tree('v'), 'compose.yaml')
            const fixedName = `fixed-${RUN}-${randomBytes(3).toString('hex')}`
            const text = readFileSync(file, 'utf8')
              .replace('"8080:80"', publishedApi)
              .replace(/^ {2}db:\n/m, `  db:\n    container_name: ${fixedName}\n`)
            writeFileSync(file, text)
            const nameLine = lineOf(text, 'container_name:')
            const up = await stack.run(['sandbox', 'up', '--json'], { cwd: stack.tree('v') })
            expectExit(up, 2, 'sandbox up with container_name')
            assert.ok(
              up.json.error.message.includes(`compose.yaml:${nameLine}`),
              `names compose.yaml:${nameLine}: ${up.json.error.message}`,
            )
            assert.match(up.json.error.message, /container_name/)
            assert.deepEqual(await countProjectObjects(id), NO_OBJECTS, 'nothing started')
            const named = await engine(
              `/containers/json?all=1&filters=${encodeURIComponent(JSON.stringify({ name: [fixedName] }))}`,
            )
            assert.deepEqual(named, [], `no container named ${fixedName}`)
            expectExit(await stack.run(['done', 'v', '--force']), 0, 'done v')
          })(),
        ])
      },
    )
  })
})
