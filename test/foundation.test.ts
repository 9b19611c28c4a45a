/**
 * The foundation end to end: the real `berth` CLI (tasks/bin/berth.js, compiled) in real git
 * repositories under a temp folder, with BERTH_HOME pointing into it. Build first:
 * `for p in plugins/contract plugins/ports plugins/registry tasks; do (cd $p && npx tsc -p tsconfig.build.json); done`
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { berth, git, gitRepo, REPO_ROOT, testdir, writeConfig } from './helpers/index.js'

const root = testdir('berth-foundation-')
const userBerth = join(homedir(), '.berth')
const userBerthBefore = snapshot(userBerth)
after(() => root.cleanup())

/** Existence, mtime and entries of a folder: enough to tell whether anything wrote there. */
function snapshot(dir: string): { mtimeMs: number; entries: string[] } | null {
  if (!existsSync(dir)) return null
  return { mtimeMs: statSync(dir).mtimeMs, entries: readdirSync(dir).sort() }
}

const homeOf = (name: string) => join(root.dir, 'homes', name)

/** `git init` in a fresh folder: the smallest checkout berth accepts. */
async function scratchRepo(name: string, config?: unknown): Promise<string> {
  const dir = join(root.dir, 'repos', name)
  mkdirSync(dir, { recursive: true })
  await git(dir, 'init', '-q', '-b', 'main')
  if (config !== undefined) writeConfig(dir, config)
  return dir
}

/** stdout must be one JSON document and nothing else. */
// biome-ignore lint/suspicious/noExplicitAny: the documents are checked field by field
function oneJsonDocument(stdout: string): any {
  const text = stdout.trim()
  assert.ok(text.startsWith('{') && text.endsWith('}'), `stdout is not one JSON object:\n${stdout}`)
  return JSON.parse(text)
}

function readEnvFile(file: string): Record<string, string> {
  const values: Record<string, string> = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const eq = line.indexOf('=')
    values[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return values
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** A base port in [from, to) whose ports base..base+span are all free right now. */
async function freeBase(from: number, to: number, span: number): Promise<number> {
  for (;;) {
    const base = from + Math.floor(Math.random() * (to - from - span))
    const ports = Array.from({ length: span + 1 }, (_, i) => base + i)
    if ((await Promise.all(ports.map(portFree))).every(Boolean)) return base
  }
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  assert.ok(child.pid)
  return child.pid
}

async function untilListening(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1')
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('error', () => resolve(false))
    })
    if (open) return
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const KTRDR_SLOT_2 = {
  KTRDR_API_PORT: 8002,
  KTRDR_DB_PORT: 5434,
  KTRDR_GRAFANA_PORT: 3002,
  KTRDR_JAEGER_UI_PORT: 16688,
  KTRDR_JAEGER_OTLP_GRPC_PORT: 4337,
  KTRDR_JAEGER_OTLP_HTTP_PORT: 4338,
  KTRDR_PROMETHEUS_PORT: 9092,
  KTRDR_WORKER_PORT_1: 5017,
  KTRDR_WORKER_PORT_2: 5018,
  KTRDR_WORKER_PORT_3: 5019,
  KTRDR_WORKER_PORT_4: 5020,
}

describe('berth --help and --version', { concurrency: true }, () => {
  test('--help lists every command', async () => {
    const result = await berth(['--help'], { cwd: root.dir, home: homeOf('help') })
    assert.equal(result.code, 0, result.stderr)
    for (const command of [
      'sandbox init',
      'sandbox slots',
      'sandbox release',
      'url',
      'config show',
      'config schema',
      'doctor',
    ]) {
      assert.match(result.stdout, new RegExp(`^  ${command}\\b`, 'm'), `--help lists ${command}`)
    }
  })

  test('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'tasks/package.json'), 'utf8')) as { version: string }
    const result = await berth(['--version'], { cwd: root.dir, home: homeOf('version') })
    assert.equal(result.code, 0)
    assert.equal(result.stdout, `${pkg.version}\n`)
  })
})

describe('a scratch repo registered on slot 2 with the KTRDR preset', () => {
  const home = homeOf('ktrdr')
  let repo = ''

  before(async () => {
    mkdirSync(join(root.dir, 'ktrdr'))
    ;({ repo } = await gitRepo(join(root.dir, 'ktrdr'), 'ktrdr-app'))
  })

  test("sandbox init --slot 2 --json writes .env.sandbox with slot 2's ports and prints them as one JSON document", async () => {
    const result = await berth(['sandbox', 'init', '--slot', '2', '--json'], { cwd: repo, home })
    assert.equal(result.code, 0, result.stderr)
    const document = oneJsonDocument(result.stdout)
    assert.equal(document.ok, true)
    assert.equal(document.instance.slot, 2)
    assert.equal(document.instance.id, 'ktrdr-app')
    assert.deepEqual(document.ports, KTRDR_SLOT_2)
    const env = readEnvFile(join(repo, '.env.sandbox'))
    assert.deepEqual(env, {
      INSTANCE_ID: 'ktrdr-app',
      COMPOSE_PROJECT_NAME: 'ktrdr-app',
      SLOT_NUMBER: '2',
      ...Object.fromEntries(Object.entries(KTRDR_SLOT_2).map(([name, port]) => [name, String(port)])),
    })
    assert.deepEqual(readdirSync(home), ['registry.json'], 'state lives in BERTH_HOME; the lock is gone')
  })

  test('a second sandbox init there exits 3 and changes nothing', async () => {
    const registry = readFileSync(join(home, 'registry.json'))
    const result = await berth(['sandbox', 'init', '--json'], { cwd: repo, home })
    assert.equal(result.code, 3, result.stderr)
    const document = oneJsonDocument(result.stdout)
    assert.equal(document.ok, false)
    assert.equal(document.error.code, 'E_INSTANCE_EXISTS')
    assert.ok(document.error.hint)
    assert.deepEqual(readFileSync(join(home, 'registry.json')), registry)
  })

  test('sandbox slots --json shows slot 2 claimed by the instance with its ports, the rest free', async () => {
    const result = await berth(['sandbox', 'slots', '--json'], { cwd: repo, home })
    assert.equal(result.code, 0, result.stderr)
    const { slots } = oneJsonDocument(result.stdout)
    assert.equal(slots.length, 11)
    assert.deepEqual(slots[2], {
      slot: 2,
      role: 'pool',
      state: 'claimed',
      instance: 'ktrdr-app',
      path: repo,
      ports: KTRDR_SLOT_2,
      blockedBy: [],
      holders: [],
    })
    assert.deepEqual(
      slots.map((s: { role: string; state: string }) => `${s.role}/${s.state}`),
      ['reserved/free', 'pool/free', 'pool/claimed', ...Array(8).fill('manual/free')],
    )
  })

  test('url reads .env.sandbox upward from a subfolder; --url and --port win; a bad --port exits 2', async () => {
    const sub = join(repo, 'src', 'deep')
    mkdirSync(sub, { recursive: true })
    const [upward, port, url, bad, nowhere] = await Promise.all([
      berth(['url', '--json'], { cwd: sub, home }),
      berth(['url', '--port', '8005'], { cwd: sub, home }),
      berth(['url', '--url', 'http://api.test:9000', '--port', '8005'], { cwd: sub, home }),
      berth(['url', '--port', '70000'], { cwd: sub, home }),
      berth(['url', '--json'], { cwd: root.dir, home }),
    ])
    assert.equal(upward.code, 0, upward.stderr)
    const found = oneJsonDocument(upward.stdout)
    assert.equal(found.url, 'http://localhost:8002')
    assert.equal(found.source, join(repo, '.env.sandbox'))
    assert.equal(port.stdout, 'http://localhost:8005\n')
    assert.equal(url.stdout, 'http://api.test:9000\n')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--port "70000": must be a port number from 1 to 65535/)
    assert.match(bad.stderr, /hint:/)
    assert.equal(nowhere.code, 0, nowhere.stderr)
    assert.deepEqual(
      { url: oneJsonDocument(nowhere.stdout).url, source: nowhere.json.source },
      { url: 'http://localhost:8000', source: 'default' },
    )
  })

  test('sandbox release 2 frees the slot, leaves the folder alone, and a second release exits 2', async () => {
    const released = await berth(['sandbox', 'release', '2', '--json'], { cwd: repo, home })
    assert.equal(released.code, 0, released.stderr)
    const document = oneJsonDocument(released.stdout)
    assert.equal(document.released.id, 'ktrdr-app')
    assert.equal(document.released.slot, 2)
    assert.ok(existsSync(join(repo, '.env.sandbox')), 'release never touches the folder')
    const slots = await berth(['sandbox', 'slots', '--json'], { cwd: repo, home })
    assert.equal(slots.json.slots[2].state, 'free')
    const again = await berth(['sandbox', 'release', '2'], { cwd: repo, home })
    assert.equal(again.code, 2)
    assert.match(again.stderr, /slot 2 is not claimed/)
  })
})

describe('config, doctor and usage errors', { concurrency: true }, () => {
  test('config show --json prints the resolved config with the KTRDR preset and slot defaults filled in', async () => {
    const repo = await scratchRepo('show')
    const result = await berth(['config', 'show', '--json'], { cwd: repo, home: homeOf('show') })
    assert.equal(result.code, 0, result.stderr)
    const { config } = oneJsonDocument(result.stdout)
    assert.equal(config.project, 'show')
    assert.equal(config.file, null)
    assert.deepEqual(config.slots, { pool: [1, 2], max: 10, reserved: [0] })
    assert.deepEqual(config.ports.KTRDR_API_PORT, { base: 8000, stride: 1, count: 1 })
    assert.deepEqual(config.ports.KTRDR_WORKER_PORT, { base: 4997, stride: 10, count: 4, slot0: 5003 })
    assert.ok(config.pipelines['sandbox.init'].includes('registry.claim'))
    assert.equal(existsSync(homeOf('show')), false, 'config show writes nothing')
  })

  test('config schema prints a JSON Schema with properties for ports and slots', async () => {
    const repo = await scratchRepo('schema')
    const result = await berth(['config', 'schema', '--json'], { cwd: repo, home: homeOf('schema') })
    assert.equal(result.code, 0, result.stderr)
    const schema = oneJsonDocument(result.stdout)
    assert.match(schema.$schema, /^https:\/\/json-schema\.org\//)
    assert.equal(schema.type, 'object')
    assert.equal(schema.additionalProperties, false)
    assert.equal(schema.properties.ports.type, 'object')
    assert.equal(schema.properties.slots.type, 'object')
    assert.deepEqual(Object.keys(schema.properties.slots.properties).sort(), ['max', 'pool', 'reserved'])
    assert.ok(schema.properties.pipelines)
  })

  test('doctor --json finds git, the Docker engine, a sound port layout and an empty registry', async () => {
    const repo = await scratchRepo('doctor')
    const result = await berth(['doctor', '--json'], { cwd: repo, home: homeOf('doctor') })
    const document = oneJsonDocument(result.stdout)
    const checks = document.checks as { check: string; status: string }[]
    const report = JSON.stringify(checks, null, 2)
    const status = (check: string) => checks.find((c) => c.check === check)?.status
    assert.equal(status('git'), 'ok', report)
    assert.equal(status('docker engine'), 'ok', report)
    assert.equal(status('port layout'), 'ok', report)
    assert.equal(status('registry'), 'ok', report)
    // Other plugins judge the machine (other people's stacks, no `op`): exit 0 exactly when none failed.
    const failed = checks.filter((c) => c.status === 'fail')
    assert.equal(document.healthy, failed.length === 0, report)
    assert.equal(result.code === 0, failed.length === 0, report)
    assert.equal(existsSync(homeOf('doctor')), false, 'doctor changes nothing')
  })

  test('an unknown command exits 2 with a hint, in human and --json form', async () => {
    const home = homeOf('usage')
    const [human, json] = await Promise.all([
      berth(['bogus'], { cwd: root.dir, home }),
      berth(['bogus', '--json'], { cwd: root.dir, home }),
    ])
    assert.equal(human.code, 2)
    assert.match(human.stderr, /unknown command 'bogus'/)
    assert.match(human.stderr, /hint: run 'berth --help'/)
    assert.equal(json.code, 2)
    assert.match(oneJsonDocument(json.stdout).error.hint, /berth --help/)
  })

  test('an unknown flag exits 2 with a hint', async () => {
    const result = await berth(['sandbox', 'init', '--bogus'], { cwd: root.dir, home: homeOf('usage') })
    assert.equal(result.code, 2)
    assert.match(result.stderr, /--bogus/)
    assert.match(result.stderr, /hint: run 'berth sandbox init --help'/)
  })

  test('--cwd pointing to a missing folder exits 2', async () => {
    const missing = join(root.dir, 'no-such-folder')
    const result = await berth(['url', '--cwd', missing], { cwd: root.dir, home: homeOf('usage') })
    assert.equal(result.code, 2)
    assert.ok(result.stderr.includes(missing), result.stderr)
  })

  test('a config with three errors prints all three paths, exits 2 and writes nothing', async () => {
    const repo = await scratchRepo('bad-config', {
      slots: { pool: 'x' },
      ports: { 'bad-name': { base: 30000 } },
      gatee: true,
    })
    const home = homeOf('bad-config')
    const [human, json] = await Promise.all([
      berth(['sandbox', 'init'], { cwd: repo, home }),
      berth(['sandbox', 'init', '--json'], { cwd: repo, home }),
    ])
    assert.equal(human.code, 2)
    for (const path of ['slots.pool:', 'ports.bad-name:', 'gatee:'])
      assert.ok(human.stderr.includes(path), human.stderr)
    assert.equal(json.code, 2)
    assert.equal(oneJsonDocument(json.stdout).error.details.problems.length, 3)
    assert.equal(existsSync(home), false, 'no registry, not even BERTH_HOME')
    assert.equal(existsSync(join(repo, '.env.sandbox')), false)
  })
})

describe('registry state on disk', { concurrency: true }, () => {
  test('a truncated registry.json makes init exit 1 naming the file, and leaves it byte-for-byte intact', async () => {
    const base = await freeBase(43000, 45000, 3)
    const repo = await scratchRepo('truncated', { project: 'truncated', ports: { T_PORT: { base } } })
    const home = homeOf('truncated')
    mkdirSync(home, { recursive: true })
    const file = join(home, 'registry.json')
    const bytes = Buffer.from('{\n  "version": 1,\n  "instances": [\n    {\n      "id": "someone",\n      "pro')
    writeFileSync(file, bytes)
    const result = await berth(['sandbox', 'init'], { cwd: repo, home })
    assert.equal(result.code, 1, result.stderr)
    assert.ok(result.stderr.includes(file), result.stderr)
    assert.deepEqual(readFileSync(file), bytes)
    assert.deepEqual(readdirSync(home), ['registry.json'])
    assert.equal(existsSync(join(repo, '.env.sandbox')), false)
  })

  test('a claim whose folder is gone is released by the next init elsewhere, which says so', async () => {
    const base = await freeBase(43000, 45000, 3)
    const config = { project: 'stale', ports: { S_PORT: { base } } }
    const home = homeOf('stale')
    const gone = await scratchRepo('stale-gone', config)
    const next = await scratchRepo('stale-next', config)
    const first = await berth(['sandbox', 'init'], { cwd: gone, home })
    assert.equal(first.code, 0, first.stderr)
    rmSync(gone, { recursive: true, force: true })
    const result = await berth(['sandbox', 'init', '--json'], { cwd: next, home })
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /released stale claim: slot 1 \(path gone\)/)
    const document = oneJsonDocument(result.stdout)
    assert.equal(document.instance.slot, 1)
    assert.deepEqual(
      document.releasedStale.map((r: { id: string }) => r.id),
      ['stale-gone'],
    )
  })

  test('a lock left by a dead process does not block init', async () => {
    const base = await freeBase(43000, 45000, 3)
    const repo = await scratchRepo('dead-lock', { project: 'dead-lock', ports: { D_PORT: { base } } })
    const home = homeOf('dead-lock')
    mkdirSync(home, { recursive: true })
    writeFileSync(
      join(home, 'registry.lock'),
      JSON.stringify({ pid: deadPid(), acquiredAt: '2024-01-01T00:00:00.000Z' }),
    )
    const result = await berth(['sandbox', 'init', '--json'], { cwd: repo, home })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(result.json.instance.slot, 1)
    // A live holder would be waited for up to 15 s; a dead one is taken over at once. The step's
    // own timing (stderr) leaves out process start-up, which a busy machine stretches.
    const claimMs = Number(/registry\.claim (\d+) ms/.exec(result.stderr)?.[1] ?? Number.NaN)
    assert.ok(claimMs < 5000, `registry.claim took ${claimMs} ms:\n${result.stderr}`)
    assert.deepEqual(readdirSync(home), ['registry.json'])
  })
})

describe('user plugins from the config', { concurrency: true }, () => {
  const PROBE_PLUGIN = [
    "import type { Plugin } from '@berth/contract'",
    '',
    'export default function probePlugin(): Plugin {',
    '  return {',
    "    name: 'probe',",
    "    version: '1.0.0',",
    '    steps: {',
    '      fail: {',
    "        description: 'refuses every instance',",
    '        run(): void {',
    "          throw new Error('the probe refuses this instance')",
    '        },',
    '      },',
    '      bad: {',
    "        description: 'writes an output its schema refuses',",
    "        outputs: [{ key: 'probe', description: 'a number', schema: { safeParse: (v: unknown) =>",
    "          typeof v === 'number' ? { success: true, data: v } : { success: false, error: { issues: [{ path: [], message: 'expected a number' }] } } } as never }],",
    '        run(ctx: { output: Record<string, unknown> }): void {',
    "          ctx.output.probe = 'not a number'",
    '        },',
    '      },',
    '    },',
    '  }',
    '}',
    '',
  ].join('\n')

  async function pluginRepo(name: string, insert: { step: string; after: string }): Promise<string> {
    const base = await freeBase(45000, 47000, 3)
    const repo = await scratchRepo(name, {
      project: name,
      ports: { PROBE_PORT: { base } },
      plugins: ['./probe.ts'],
      pipelines: { 'sandbox.init': { insert: [insert] } },
    })
    writeFileSync(join(repo, 'probe.ts'), PROBE_PLUGIN)
    return repo
  }

  const claims = (home: string) =>
    (JSON.parse(readFileSync(join(home, 'registry.json'), 'utf8')) as { instances: unknown[] }).instances

  test('a local .ts plugin step that throws after registry.claim exits 1 naming it, and the claim is undone', async () => {
    const repo = await pluginRepo('probe-after-claim', { step: 'probe.fail', after: 'registry.claim' })
    const home = homeOf('probe-after-claim')
    const result = await berth(['sandbox', 'init'], { cwd: repo, home })
    assert.equal(result.code, 1, result.stderr)
    assert.match(result.stderr, /error: probe\.fail: .*the probe refuses this instance/)
    assert.match(result.stderr, /undid registry\.claim/)
    assert.deepEqual(claims(home), [])
    assert.equal(existsSync(join(repo, '.env.sandbox')), false)
  })

  test('a plugin step that throws after env.write has .env.sandbox removed as well', async () => {
    const repo = await pluginRepo('probe-after-env', { step: 'probe.fail', after: 'env.write' })
    const home = homeOf('probe-after-env')
    const result = await berth(['sandbox', 'init', '--json'], { cwd: repo, home })
    assert.equal(result.code, 1, result.stderr)
    assert.equal(oneJsonDocument(result.stdout).error.step, 'probe.fail')
    assert.deepEqual(claims(home), [])
    assert.equal(existsSync(join(repo, '.env.sandbox')), false)
  })

  test("a config plugin's output is checked against its schema on every run (not only under BERTH_CHECK_OUTPUTS)", async () => {
    const repo = await pluginRepo('probe-bad-output', { step: 'probe.bad', after: 'registry.claim' })
    const home = homeOf('probe-bad-output')
    const result = await berth(['sandbox', 'init', '--json'], { cwd: repo, home, env: { BERTH_CHECK_OUTPUTS: '' } })
    assert.equal(result.code, 1, result.stderr)
    const document = oneJsonDocument(result.stdout)
    assert.equal(document.error.code, 'E_PLUGIN_CONTRACT')
    assert.match(document.error.message, /step probe\.bad wrote an invalid "probe" output: \(root\): expected a number/)
    assert.deepEqual(claims(home), [])
  })

  test('a pipeline naming a step the plugin lacks exits 2 naming the pipeline path, touching nothing', async () => {
    const repo = await pluginRepo('probe-missing-step', { step: 'probe.nope', after: 'registry.claim' })
    const home = homeOf('probe-missing-step')
    const result = await berth(['sandbox', 'init'], { cwd: repo, home })
    assert.equal(result.code, 2, result.stderr)
    assert.match(result.stderr, /pipelines\.sandbox\.init\[\d+\]: plugin "probe" has no step "nope"/)
    assert.equal(existsSync(home), false)
  })
})

test('a port of the next pool slot held by a process makes init skip that slot, naming the pid and command', async (t) => {
  const base = await freeBase(47000, 48000, 3)
  const repo = await scratchRepo('held-port', {
    project: 'held-port',
    slots: { pool: [1, 2, 3] },
    ports: { HELD_PORT: { base } },
  })
  const server = spawn('python3', ['-m', 'http.server', String(base + 1), '--bind', '127.0.0.1'], {
    cwd: repo,
    stdio: 'ignore',
  })
  t.after(() => server.kill('SIGKILL'))
  await untilListening(base + 1)
  const result = await berth(['sandbox', 'init', '--json'], { cwd: repo, home: homeOf('held-port') })
  assert.equal(result.code, 0, result.stderr)
  const document = oneJsonDocument(result.stdout)
  assert.equal(document.instance.slot, 2)
  assert.deepEqual(document.ports, { HELD_PORT: base + 2 })
  const [skipped] = document.skippedSlots
  assert.equal(skipped.slot, 1)
  assert.equal(skipped.holders[0].port, base + 1)
  assert.equal(skipped.holders[0].pid, server.pid)
  assert.match(skipped.holders[0].command, new RegExp(`-m http\\.server ${base + 1} --bind 127\\.0\\.0\\.1$`))
  assert.match(
    result.stderr,
    new RegExp(`warning: skipped slot 1: port ${base + 1} held by pid ${server.pid} \\(.*http\\.server`),
  )
})

test('20 concurrent inits in 20 repos get 20 distinct slots; registry and lock are 0600', async () => {
  const base = await freeBase(48000, 50000, 20)
  const pool = Array.from({ length: 20 }, (_, i) => i + 1)
  const config = { project: 'crowd', slots: { pool, max: 20 }, ports: { CROWD_PORT: { base } } }
  const repos = await Promise.all(pool.map((i) => scratchRepo(`crowd-${i}`, config)))
  const home = homeOf('crowd')
  const lock = join(home, 'registry.lock')
  const lockModes = new Set<number>()
  const watcher = setInterval(() => {
    try {
      lockModes.add(statSync(lock).mode & 0o777)
    } catch {}
  }, 1)
  let results: Awaited<ReturnType<typeof berth>>[]
  try {
    results = await Promise.all(repos.map((cwd) => berth(['sandbox', 'init', '--json'], { cwd, home })))
  } finally {
    clearInterval(watcher)
  }
  for (const result of results) assert.equal(result.code, 0, result.stderr)
  const slots = results.map((result) => oneJsonDocument(result.stdout).instance.slot as number)
  assert.deepEqual(
    [...slots].sort((a, b) => a - b),
    pool,
  )
  const registry = JSON.parse(readFileSync(join(home, 'registry.json'), 'utf8')) as {
    instances: { slot: number; path: string }[]
  }
  assert.equal(registry.instances.length, 20)
  assert.deepEqual(
    registry.instances.map((r) => r.slot).sort((a, b) => a - b),
    pool,
  )
  for (const [index, repo] of repos.entries()) {
    assert.equal(readEnvFile(join(repo, '.env.sandbox')).SLOT_NUMBER, String(slots[index]))
  }
  assert.equal(statSync(join(home, 'registry.json')).mode & 0o777, 0o600)
  assert.equal(statSync(home).mode & 0o777, 0o700)
  assert.ok(lockModes.size > 0, 'the lock file was seen while the inits ran')
  assert.deepEqual([...lockModes], [0o600])
  assert.equal(existsSync(lock), false)
})

test('no test wrote to ~/.berth: BERTH_HOME isolates all state', () => {
  assert.deepEqual(snapshot(userBerth), userBerthBefore)
})
