/**
 * One port authority for the whole machine, through the real CLI: many repositories claim slots
 * from one BERTH_HOME and never share a host port; refusals name the claim in the way; a registry
 * written before ports were recorded is upgraded in place. No containers start here.
 */
import assert from 'node:assert/strict'
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { defaultSlotPorts } from '../plugins/ports/src/index.js'
import { readEnvFile } from './helpers/demo.js'
import { berth, git, REPO_ROOT, testdir, writeConfig } from './helpers/index.js'

const root = testdir('berth-machine-')
after(() => root.cleanup())

let counter = 0
/** `git init` in `<root>/<group>/<name>`: a repository whose project is its folder name. */
async function scratchRepo(group: string, name: string, config: unknown): Promise<string> {
  const dir = join(root.dir, group, name)
  mkdirSync(dir, { recursive: true })
  await git(dir, 'init', '-q', '-b', 'main')
  writeConfig(dir, config)
  return dir
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** A base in 42000-47000 whose `span` ports from it are all free now. */
async function freeBase(span: number): Promise<number> {
  for (;;) {
    const base = 42000 + Math.floor(Math.random() * 100) * 50
    const free = await Promise.all(Array.from({ length: span }, (_, i) => canBind(base + i)))
    if (free.every(Boolean)) return base
  }
}

/** The port variables of an `.env.sandbox` (everything but identity and slot). */
function envPorts(file: string): Record<string, number> {
  const values = readEnvFile(file)
  return Object.fromEntries(
    Object.entries(values)
      .filter(([key]) => /_PORT(_\d+)?$/.test(key))
      .map(([key, value]) => [key, Number(value)]),
  )
}

interface StoredClaim {
  id: string
  project: string
  slot: number | null
  path: string
  ports: Record<string, number>
  portsAssumed?: true
}
function registryOf(home: string): { version: number; instances: StoredClaim[] } {
  return JSON.parse(readFileSync(join(home, 'registry.json'), 'utf8'))
}

describe('one port authority for the machine', () => {
  test('20 repositories with different folder names, the default preset and a 20-slot pool run sandbox init at the same moment: all exit 0, no two .env.sandbox share a port, the registry holds 20 claims', {
    timeout: 240_000,
  }, async () => {
    const pool = Array.from({ length: 20 }, (_, i) => i + 1)
    // The default preset's ports of slots 1-20 must be free, or a pool slot is (rightly) skipped.
    const wanted = pool.flatMap((slot) => Object.values(defaultSlotPorts(slot)))
    const held = (await Promise.all(wanted.map(async (port) => ((await canBind(port)) ? [] : [port])))).flat()
    assert.deepEqual(held, [], 'precondition: nothing on this machine holds the default ports of slots 1-20')
    const config = { slots: { pool, max: 40 } }
    const names = pool.map((i) => `service-${String.fromCharCode(96 + i)}${i}`)
    const repos = await Promise.all(names.map((name) => scratchRepo('crowd', name, config)))
    const home = join(root.dir, 'homes', 'crowd')
    const results = await Promise.all(repos.map((cwd) => berth(['sandbox', 'init', '--json'], { cwd, home })))
    for (const [index, result] of results.entries()) assert.equal(result.code, 0, `${names[index]}: ${result.stderr}`)
    const seen = new Map<number, string>()
    for (const repo of repos) {
      for (const [name, port] of Object.entries(envPorts(join(repo, '.env.sandbox')))) {
        assert.equal(seen.get(port), undefined, `${repo} ${name}=${port} is also ${seen.get(port)}'s`)
        seen.set(port, repo)
      }
    }
    assert.equal(seen.size, 20 * 11, 'every repository has the preset 11 ports, none shared')
    const registry = registryOf(home)
    assert.equal(registry.version, 2)
    assert.equal(registry.instances.length, 20)
    assert.deepEqual(registry.instances.map((r) => r.project).sort(), [...names].sort(), 'one project per folder name')
    for (const claim of registry.instances) {
      assert.deepEqual(claim.ports, envPorts(join(claim.path, '.env.sandbox')), `${claim.id} claims what it runs on`)
    }
  })

  test("--slot N overlapping another repository's claim exits 3 naming it, and nothing is written", async () => {
    const base = await freeBase(30)
    const config = { ports: { API_PORT: { base }, DB_PORT: { base: base + 10 } }, compose: { files: ['c.yaml'] } }
    const left = await scratchRepo('overlap', 'left', config)
    const right = await scratchRepo('overlap', 'right', config)
    await git(right, 'commit', '-q', '--allow-empty', '-m', 'start')
    const home = join(root.dir, 'homes', 'overlap')
    assert.equal((await berth(['sandbox', 'init'], { cwd: left, home })).code, 0)
    const registryBefore = readFileSync(join(home, 'registry.json'), 'utf8')
    const excludeBefore = readFileSync(join(right, '.git/info/exclude'), 'utf8')

    const explicit = await berth(['sandbox', 'init', '--slot', '1', '--json'], { cwd: right, home })
    assert.equal(explicit.code, 3, explicit.stderr)
    assert.equal(explicit.json.error.code, 'E_PORT_CLAIMED')
    assert.equal(
      explicit.json.error.message,
      `slot 1: ports ${base + 1}, ${base + 11} claimed by left (project left) in ${left}`,
    )
    assert.match(explicit.json.error.hint, /pool slot 2 is free: leave out --slot, or pass --slot 2/)
    const viaImpl = await berth(['impl', 'x', '--slot', '1', '--no-up'], { cwd: right, home })
    assert.equal(viaImpl.code, 3, viaImpl.stderr)
    assert.match(viaImpl.stderr, /claimed by left \(project left\)/)
    assert.equal(readFileSync(join(home, 'registry.json'), 'utf8'), registryBefore, 'the registry is unchanged')
    assert.equal(existsSync(join(right, '.env.sandbox')), false)
    assert.equal(readFileSync(join(right, '.git/info/exclude'), 'utf8'), excludeBefore)
    assert.equal(existsSync(join(root.dir, 'overlap', 'right-impl-x')), false)
    assert.equal((await git(right, 'branch', '--list', 'impl/x')).trim(), '')

    const slots = await berth(['sandbox', 'slots', '--json'], { cwd: right, home })
    assert.equal(slots.code, 0, slots.stderr)
    const slot1 = slots.json.slots[1]
    assert.equal(slot1.state, 'blocked')
    assert.deepEqual(
      slot1.blockedBy.map((c: StoredClaim) => [c.id, c.project, c.path]),
      [['left', 'left', left]],
    )
    assert.equal(slots.json.slots[2].state, 'free')
    const human = await berth(['sandbox', 'slots'], { cwd: right, home })
    assert.match(human.stdout, /^1\s+pool\s+blocked\s+.*left \(project left; ports /m)

    const pooled = await berth(['sandbox', 'init', '--json'], { cwd: right, home })
    assert.equal(pooled.code, 0, pooled.stderr)
    assert.equal(pooled.json.instance.slot, 2)
    assert.deepEqual(pooled.json.instance.ports, { API_PORT: base + 2, DB_PORT: base + 12 })
    assert.equal(pooled.json.skippedSlots[0].claims[0].id, 'left')
    assert.match(pooled.stderr, new RegExp(`warning: skipped slot 1: ports ${base + 1}, ${base + 11} claimed by left`))
  })

  test('a registry written before ports were recorded keeps every claim after the upgrade, and the upgraded claims carry their ports', {
    timeout: 120_000,
  }, async () => {
    const fixture = join(REPO_ROOT, 'plugins/registry/test/fixtures/registry-v1')
    const dir = join(root.dir, `upgrade-${++counter}`)
    const home = join(dir, 'home')
    mkdirSync(home, { recursive: true })
    const text = readFileSync(join(fixture, 'registry.json'), 'utf8').replaceAll('__ROOT__', dir)
    const old = JSON.parse(text) as { version: number; instances: StoredClaim[] }
    for (const claim of old.instances) {
      mkdirSync(claim.path, { recursive: true })
      const env = join(fixture, 'env', `${claim.id}.env.sandbox`)
      if (existsSync(env)) cpSync(env, join(claim.path, '.env.sandbox'))
    }
    writeFileSync(join(home, 'registry.json'), text, { mode: 0o600 })
    // beta is a repository with the default preset, as when the fixture was written.
    await git(join(dir, 'beta'), 'init', '-q', '-b', 'main')
    writeConfig(join(dir, 'beta'), { compose: { files: ['compose.yaml'] } })

    const list = await berth(['sandbox', 'list', '--json'], { cwd: join(dir, 'beta'), home })
    assert.equal(list.code, 0, list.stderr)
    assert.match(list.stderr, /upgraded .*registry\.json from version 1 to 2: every claim kept/)
    assert.match(
      list.stderr,
      /warning: claim beta-impl-lost-env: ports unknown \(no .*\.env\.sandbox\); it now holds slot 3's ports in the default layout/,
    )
    assert.deepEqual(
      list.json.registryUpgrade.assumed.map((a: { id: string }) => a.id),
      ['beta-impl-lost-env'],
    )
    assert.deepEqual(
      list.json.instances.map((i: StoredClaim) => i.id),
      ['beta', 'beta-impl-search', 'beta-impl-lost-env'],
    )
    const upgraded = registryOf(home)
    assert.equal(upgraded.version, 2)
    assert.deepEqual(
      upgraded.instances.map((r) => [r.id, r.slot, r.path]),
      old.instances.map((r) => [r.id, r.slot, r.path]),
      'every claim is kept, in order',
    )
    for (const claim of upgraded.instances) {
      const env = join(claim.path, '.env.sandbox')
      if (claim.slot === null) assert.deepEqual(claim.ports, {})
      else if (existsSync(env)) assert.deepEqual(claim.ports, envPorts(env), `${claim.id}: ports from its .env.sandbox`)
      else {
        assert.equal(claim.portsAssumed, true)
        assert.deepEqual(claim.ports, defaultSlotPorts(claim.slot), `${claim.id}: the default layout's`)
      }
    }
    const second = await berth(['sandbox', 'list'], { cwd: join(dir, 'beta'), home })
    assert.doesNotMatch(second.stderr, /upgraded/, 'the upgrade happens once')

    const doctor = await berth(['doctor', '--json'], { cwd: join(dir, 'beta'), home })
    const claimChecks = (doctor.json.checks as { check: string; detail: string }[]).filter(
      (c) => c.check === 'claim ports',
    )
    assert.equal(claimChecks.length, 1, JSON.stringify(doctor.json.checks, null, 2))
    assert.match(claimChecks[0]!.detail, /^beta-impl-lost-env holds slot 3's ports in the default layout/)

    // A new repository on the default preset now steps around the old claims' ports.
    const gamma = await scratchRepo(`upgrade-${counter}`, 'gamma', { slots: { pool: [1, 2, 3, 4, 5, 6] } })
    const init = await berth(['sandbox', 'init', '--json'], { cwd: gamma, home })
    assert.equal(init.code, 0, init.stderr)
    assert.ok(init.json.instance.slot > 3, `slots 1-3 are beta's (got ${init.json.instance.slot})`)
    assert.deepEqual(
      init.json.skippedSlots.slice(0, 3).map((s: { slot: number; claims: StoredClaim[] }) => [s.slot, s.claims[0]?.id]),
      [
        [1, 'beta'],
        [2, 'beta-impl-search'],
        [3, 'beta-impl-lost-env'],
      ],
    )
  })
})
