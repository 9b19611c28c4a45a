/**
 * What agents working in parallel stacks rely on, end to end through the real `berth` CLI on the
 * real Docker engine: `berth test e2e` runs the demo's e2e service inside the instance's network
 * and exits with its code, every run leaves an evidence bundle (no secret in it, with the
 * stand-in `op` providing real-looking secrets), shared data folders reach the containers, and
 * each instance's containers carry their own telemetry identity.
 *
 * One repository (a copy of examples/demo) with its own BERTH_HOME and a block of 100 host ports
 * in 52000-56000; two instances `impl a` and `impl b` started at once. `after` removes them with
 * `berth done --force`, then removes anything still labelled with their compose projects.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { after, before, describe, test } from 'node:test'
import {
  buildDemoImages,
  demoConfig,
  demoRepo,
  engine,
  inspectContainer,
  projectObjects,
  readEnvFile,
  removeProject,
  serviceContainer,
  walkFiles,
} from './helpers/demo.js'
import { berth, expectExit, FIXTURE_BIN, REPO_ROOT, testdir } from './helpers/index.js'

const RUN = randomBytes(2).toString('hex')
const PROJECT = `agt${RUN}`
const BLOCK = 52000 + Math.floor(Math.random() * 39) * 100
const SECRETS = {
  db_password: `dbpw-${randomBytes(8).toString('hex')}`,
  redis_password: `redispw-${randomBytes(8).toString('hex')}`,
  api_key: `apikey-${randomBytes(8).toString('hex')}`,
}
/** `compose.limits` of the config: every container of an instance must report them. */
const LIMIT_MEMORY = '384m'
const LIMIT_CPUS = 1.5
const id = (feature: string) => `${PROJECT}-impl-${feature}`

/**
 * The evidence and shared plugins, named in the config only while the runner does not load them
 * as built-ins yet (tasks/src/plugins.ts).
 */
function extraPlugins(): string[] {
  const builtins = readFileSync(join(REPO_ROOT, 'tasks/src/plugins.ts'), 'utf8')
  return ['evidence', 'shared']
    .filter((name) => !builtins.includes(`@berth/${name}`))
    .map((name) => join(REPO_ROOT, `plugins/${name}/dist/index.js`))
}

/** The newest bundle folder of an instance's `.sandbox/evidence`. */
function newestBundle(tree: string): string {
  const parent = join(tree, '.sandbox', 'evidence')
  const names = readdirSync(parent)
    .filter((name) => /^\d{8}T\d{6}Z(-\d+)?$/.test(name))
    .sort((a, b) => {
      const [sa, na = '1'] = a.split('-')
      const [sb, nb = '1'] = b.split('-')
      return sa === sb ? Number(na) - Number(nb) : sa! < sb! ? -1 : 1
    })
  assert.ok(names.length > 0, `no evidence bundle in ${parent}`)
  return join(parent, names.at(-1)!)
}

/** Files under `dir` whose bytes contain any of the secret values. */
function filesWithSecrets(dir: string): string[] {
  return walkFiles(dir).filter((file) => {
    const bytes = readFileSync(file)
    return Object.values(SECRETS).some((secret) => bytes.includes(secret))
  })
}

describe('agents in parallel demo stacks (real CLI, real engine, stand-in op)', { concurrency: 1 }, () => {
  const { dir, cleanup: removeDir } = testdir('berth-agents-')
  const home = join(dir, 'home')
  const seed = join(dir, 'seed')
  const items = join(dir, 'op-items.json')
  /** Every berth call gets the stand-in `op` (so the stack's secrets are the same on every command). */
  const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, OP_STANDIN_ITEMS: items }
  let repo = ''
  const tree = (feature: string) => join(dir, `${PROJECT}-impl-${feature}`)
  const run = (args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) =>
    berth(args, { cwd: options.cwd ?? repo, home, env: { ...env, ...options.env }, timeoutMs: 240_000 })
  let setupError: unknown

  before(
    async () => {
      try {
        await engine('/_ping')
        await buildDemoImages()
        writeFileSync(items, JSON.stringify({ 'demo-item': SECRETS }))
        mkdirSync(join(seed, 'data'), { recursive: true })
        writeFileSync(join(seed, 'data', 'bars.csv'), 'time,open\n1,1.1\n')
        writeFileSync(join(seed, 'README'), 'not shared data\n')
        const config = {
          ...demoConfig(PROJECT, BLOCK),
          compose: { files: ['compose.yaml'], limits: { memory: LIMIT_MEMORY, cpus: LIMIT_CPUS } },
          sharedData: { dirs: { data: 'DEMO_DATA_DIR' } },
          plugins: extraPlugins(),
        }
        ;({ repo } = await demoRepo(dir, PROJECT, config, (checkout) => {
          // The backend mounts the shared data folder from the path .env.sandbox carries.
          const file = join(checkout, 'compose.yaml')
          const text = readFileSync(file, 'utf8')
          const mount = '      - ./backend:/app:ro\n'
          assert.ok(text.includes(mount))
          writeFileSync(
            file,
            text.replace(mount, `${mount}      - \${DEMO_DATA_DIR:-./.sandbox/no-shared-data}:/shared/data:ro\n`),
          )
        }))
        expectExit(await run(['shared', 'init', '--from', seed, '--json']), 0, 'shared init')
        const [a, b] = await Promise.all([run(['impl', 'a', '--json']), run(['impl', 'b', '--json'])])
        expectExit(a, 0, 'impl a')
        expectExit(b, 0, 'impl b')
      } catch (error) {
        setupError = error
      }
    },
    { timeout: 300_000 },
  )

  after(
    async () => {
      await Promise.all(['a', 'b'].map((feature) => run(['done', feature, '--force']).catch(() => undefined)))
      await Promise.all(['a', 'b'].map((feature) => removeProject(id(feature)).catch(() => undefined)))
      removeDir()
    },
    { timeout: 180_000 },
  )

  /** A test that fails with the set-up's error instead of a confusing one of its own. */
  function agentTest(name: string, body: () => Promise<void>): void {
    test(name, { timeout: 240_000 }, async () => {
      if (setupError) throw setupError
      await body()
    })
  }

  agentTest(
    'two instances’ containers carry different telemetry identities (INSTANCE_ID, SLOT_NUMBER, OTEL_RESOURCE_ATTRIBUTES)',
    async () => {
      const identities = []
      for (const feature of ['a', 'b']) {
        const container = await serviceContainer(id(feature), 'backend')
        const containerEnv = Object.fromEntries(
          ((await inspectContainer(container.Id)).Config.Env ?? []).map((line) => [
            line.slice(0, line.indexOf('=')),
            line.slice(line.indexOf('=') + 1),
          ]),
        )
        const sandbox = readEnvFile(join(tree(feature), '.env.sandbox'))
        assert.equal(containerEnv.INSTANCE_ID, id(feature))
        assert.equal(containerEnv.SLOT_NUMBER, sandbox.SLOT_NUMBER)
        assert.equal(containerEnv.OTEL_RESOURCE_ATTRIBUTES, `instance.id=${id(feature)},deployment.environment=sandbox`)
        identities.push(containerEnv.OTEL_RESOURCE_ATTRIBUTES)
      }
      assert.notEqual(identities[0], identities[1])
    },
  )

  agentTest(
    'with compose.limits in config, every container of each instance reports the memory and CPU limit (engine inspect)',
    async () => {
      for (const feature of ['a', 'b']) {
        const { containers } = await projectObjects(id(feature))
        assert.ok(containers.length >= 5, `instance ${feature} has its containers (${containers.length})`)
        for (const container of containers) {
          const inspected = await engine<{ Name: string; HostConfig: { Memory: number; NanoCpus: number } }>(
            `/containers/${container.Id}/json`,
          )
          assert.equal(inspected.HostConfig.Memory, 384 * 1024 * 1024, `${inspected.Name} memory limit`)
          assert.equal(inspected.HostConfig.NanoCpus, LIMIT_CPUS * 1e9, `${inspected.Name} cpu limit`)
        }
      }
      const rendered = readFileSync(join(tree('a'), '.sandbox', 'compose.yaml'), 'utf8')
      assert.match(rendered, /mem_limit: 384m/)
    },
  )

  agentTest(
    'shared data: .env.sandbox carries the host path, the container mounts exactly that folder, status names its users',
    async () => {
      const shared = join(home, 'shared', 'data')
      for (const feature of ['a', 'b']) {
        assert.equal(readEnvFile(join(tree(feature), '.env.sandbox')).DEMO_DATA_DIR, shared)
        const backend = await serviceContainer(id(feature), 'backend')
        const inspected = await engine<{ Mounts: { Source: string; Destination: string }[] }>(
          `/containers/${backend.Id}/json`,
        )
        const mount = inspected.Mounts.find((m) => m.Destination === '/shared/data')
        assert.equal(mount?.Source, shared, feature)
      }
      assert.deepEqual(readdirSync(join(home, 'shared')), ['data'], 'nothing but the named folder was created')
      const status = expectExit(await run(['shared', 'status', '--json']), 0, 'shared status')
      assert.deepEqual(status.json.shared.dirs, [
        {
          name: 'data',
          env: 'DEMO_DATA_DIR',
          path: shared,
          exists: true,
          bytes: 16,
          files: 1,
          instances: [id('a'), id('b')],
        },
      ])
    },
  )

  agentTest(
    'berth test e2e passes inside the stack, streams the test output and files its artifacts in the newest evidence folder',
    async () => {
      const result = expectExit(await run(['test', 'e2e'], { cwd: tree('a') }), 0, 'test e2e')
      assert.match(result.stdout, /ok {3}health answers 200/)
      assert.match(result.stdout, /E2E PASSED/)
      const bundle = newestBundle(tree('a'))
      const results = JSON.parse(readFileSync(join(bundle, 'e2e', 'e2e-results.json'), 'utf8'))
      assert.equal(results.passed, true)
      assert.equal(results.instance, id('a'))
      const artifacts = readdirSync(join(tree('a'), '.sandbox', 'artifacts'))
      assert.equal(artifacts.length, 1)
      const report = JSON.parse(readFileSync(join(bundle, 'run.json'), 'utf8'))
      assert.deepEqual([report.task, report.ok, report.exitCode], ['test.e2e', true, 0])
    },
  )

  agentTest('a failing e2e test makes berth exit with the test’s code, and its evidence is still written', async () => {
    const result = await run(['test', 'e2e', '--json'], { cwd: tree('b'), env: { E2E_EXPECT_WORKERS: '5' } })
    expectExit(result, 1, 'test e2e with 5 workers expected')
    assert.equal(result.json.ok, false)
    assert.equal(result.json.e2e.exitCode, 1)
    assert.deepEqual(result.json.e2e.files, ['e2e-results.json'])
    assert.match(result.stderr, /E2E FAILED/, 'the test output streams to stderr under --json')
    const bundle = result.json.evidenceDir as string
    assert.equal(bundle, newestBundle(tree('b')))
    const results = JSON.parse(readFileSync(join(bundle, 'e2e', 'e2e-results.json'), 'utf8'))
    assert.equal(results.passed, false)
    assert.equal(results.expectWorkers, 5)

    const custom = await run(['test', 'e2e', '--', 'node', '-e', 'process.exit(7)'], { cwd: tree('b') })
    expectExit(custom, 7, 'test e2e -- node -e "process.exit(7)"')
  })

  agentTest('berth evidence --json lists every file of its bundle, and no bundle holds a secret value', async () => {
    const result = expectExit(await run(['evidence', '--json'], { cwd: tree('a') }), 0, 'evidence')
    const manifest = result.json.evidence
    const listed = manifest.files.map((f: { path: string }) => f.path).sort()
    const onDisk = walkFiles(manifest.dir)
      .map((file) => relative(manifest.dir, file))
      .sort()
    assert.deepEqual(listed, onDisk)
    for (const path of ['config.json', 'env.sandbox', 'gate.json', 'containers.json', 'git.json', 'manifest.json']) {
      assert.ok(listed.includes(path), `${path} is in the bundle`)
    }
    for (const service of [
      'backend',
      'db',
      'observability',
      'prometheus',
      'redis',
      'worker-1',
      'worker-2',
      'worker-3',
      'worker-4',
    ]) {
      assert.ok(listed.includes(`logs/${service}.log`), `logs/${service}.log is in the bundle`)
    }
    assert.ok(listed.includes('e2e/e2e-results.json'), 'the newest e2e artifacts are in the bundle')
    assert.deepEqual(manifest.problems, [])
    assert.equal(manifest.gateFrom !== null, true)
    // The secrets reached the stack (the backend reports its key is set) ...
    const info = await fetch(
      `http://127.0.0.1:${readEnvFile(join(tree('a'), '.env.sandbox')).KTRDR_API_PORT}/api/v1/info`,
    )
    assert.equal(((await info.json()) as { secretPresent: boolean }).secretPresent, true)
    // ... yet no file of any bundle (automatic ones included) nor the output holds one.
    for (const feature of ['a', 'b']) {
      assert.deepEqual(filesWithSecrets(join(tree(feature), '.sandbox', 'evidence')), [], feature)
    }
    for (const secret of Object.values(SECRETS)) assert.ok(!result.stdout.includes(secret))
    assert.ok(existsSync(join(tree('a'), '.sandbox', 'evidence')))
  })
})
