/**
 * The registry as the machine's port authority: claims of different projects never share a host
 * port, whatever their slot numbers; refusals name the claim in the way.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { BerthError, type InstanceKind, type InstanceRecord } from '@berth/contract'
import { claimSlot, readRegistry, registryPaths, type SlotsConfig, slotsConfigSchema } from '../src/index.js'

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-registry-machine-')))
after(() => rmSync(root, { recursive: true, force: true }))

let counter = 0
function fixture(): { home: string; dir: string } {
  const dir = join(root, `case-${++counter}`)
  mkdirSync(join(dir, 'home'), { recursive: true })
  return { home: join(dir, 'home'), dir }
}

function instance(dir: string, id: string, project: string, kind: InstanceKind = 'sandbox'): InstanceRecord {
  const path = join(dir, id)
  mkdirSync(path, { recursive: true })
  return { id, project, kind, slot: null, path, repo: path, createdByBerth: false, createdAt: new Date().toISOString() }
}

const slots = (written: Partial<SlotsConfig> = {}): SlotsConfig => slotsConfigSchema.parse(written)

/** Two variables per slot, as two repositories on one preset would have: API 39000+N, DB 39100+N. */
const sharedLayout = (slot: number) => ({ API_PORT: 39000 + slot, DB_PORT: 39100 + slot })

async function conflict(promise: Promise<unknown>): Promise<BerthError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof BerthError, String(error))
    assert.equal(error.exitCode, 3, error.message)
    assert.ok(error.hint)
    return error
  }
  assert.fail('expected a conflict (exit 3)')
}

describe('machine-wide allocation', () => {
  test('records the host ports the claim resolved to', async () => {
    const { home, dir } = fixture()
    const { record } = await claimSlot(home, instance(dir, 'alpha', 'alpha'), {
      slots: slots(),
      slotPorts: sharedLayout,
    })
    assert.deepEqual(record.ports, { API_PORT: 39001, DB_PORT: 39101 })
    assert.deepEqual((await readRegistry(home)).instances[0]?.ports, { API_PORT: 39001, DB_PORT: 39101 })
  })

  test("skips a pool slot whose ports another project's live claim holds, naming that claim", async () => {
    const { home, dir } = fixture()
    const alpha = instance(dir, 'alpha', 'alpha')
    await claimSlot(home, alpha, { slots: slots(), slotPorts: sharedLayout })
    const { record, skipped } = await claimSlot(home, instance(dir, 'beta', 'beta'), {
      slots: slots(),
      slotPorts: sharedLayout,
    })
    assert.equal(record.slot, 2)
    assert.deepEqual(record.ports, { API_PORT: 39002, DB_PORT: 39102 })
    assert.deepEqual(skipped, [
      {
        slot: 1,
        holders: [],
        claims: [{ id: 'alpha', project: 'alpha', kind: 'sandbox', slot: 1, path: alpha.path, ports: [39001, 39101] }],
      },
    ])
  })

  test('a slot whose ports only partly overlap another layout is skipped too', async () => {
    const { home, dir } = fixture()
    // alpha's slot 3 API port is beta's slot 1 DB port.
    await claimSlot(home, instance(dir, 'alpha', 'alpha'), {
      slots: slots(),
      slot: 3,
      slotPorts: (slot) => ({ A_API: 39200 + slot }),
    })
    const { record, skipped } = await claimSlot(home, instance(dir, 'beta', 'beta'), {
      slots: slots(),
      slotPorts: (slot) => ({ B_API: 39300 + slot, B_DB: 39202 + slot }),
    })
    assert.equal(record.slot, 2)
    assert.deepEqual(
      skipped.map((s) => [s.slot, s.claims.map((c) => [c.id, c.ports])]),
      [[1, [['alpha', [39203]]]]],
    )
  })

  test("refuses an explicit --slot overlapping another project's claim (exit 3) naming it, and writes nothing", async () => {
    const { home, dir } = fixture()
    const alpha = instance(dir, 'alpha', 'alpha')
    await claimSlot(home, alpha, { slots: slots(), slotPorts: sharedLayout })
    const before = readFileSync(registryPaths(home).file, 'utf8')
    const error = await conflict(
      claimSlot(home, instance(dir, 'beta', 'beta'), { slots: slots(), slot: 1, slotPorts: sharedLayout }),
    )
    assert.equal(error.code, 'E_PORT_CLAIMED')
    assert.equal(error.message, `slot 1: ports 39001, 39101 claimed by alpha (project alpha) in ${alpha.path}`)
    assert.equal(
      error.hint,
      'host ports belong to the whole machine; pool slot 2 is free: leave out --slot, or pass --slot 2',
    )
    assert.equal(readFileSync(registryPaths(home).file, 'utf8'), before)
  })

  test('when other projects use up the pool, says so and names the first free manual slot', async () => {
    const { home, dir } = fixture()
    await claimSlot(home, instance(dir, 'alpha', 'alpha'), { slots: slots(), slotPorts: sharedLayout })
    await claimSlot(home, instance(dir, 'gamma', 'gamma'), { slots: slots(), slotPorts: sharedLayout })
    await claimSlot(home, instance(dir, 'delta', 'delta'), { slots: slots(), slot: 3, slotPorts: sharedLayout })
    const error = await conflict(
      claimSlot(home, instance(dir, 'beta', 'beta'), { slots: slots(), slotPorts: sharedLayout }),
    )
    assert.equal(error.code, 'E_POOL_EXHAUSTED')
    assert.match(error.message, /^no free slot in the pool \[1, 2\]: slot 1: ports 39001, 39101 claimed by alpha/)
    assert.match(error.message, /slot 2: ports 39002, 39102 claimed by gamma \(project gamma\)/)
    assert.match(error.message, /the pool is used up by other projects \(alpha, gamma\)$/)
    assert.equal(error.hint, 'slot 4 is the first free manual slot: take it with --slot 4')
    assert.equal((error.details as { firstFreeSlot: number }).firstFreeSlot, 4)
  })

  test('says when no slot up to max is free either', async () => {
    const { home, dir } = fixture()
    const few = slots({ pool: [1], max: 2 })
    await claimSlot(home, instance(dir, 'alpha', 'alpha'), { slots: few, slotPorts: sharedLayout })
    await claimSlot(home, instance(dir, 'gamma', 'gamma'), { slots: few, slot: 2, slotPorts: sharedLayout })
    const error = await conflict(
      claimSlot(home, instance(dir, 'beta', 'beta'), { slots: few, slotPorts: sharedLayout }),
    )
    assert.match(error.hint!, /^no slot up to 2 is free either/)
  })

  test("refuses local-prod slot 0 when another project's claim holds its ports", async () => {
    const { home, dir } = fixture()
    await claimSlot(home, instance(dir, 'alpha-prod', 'alpha', 'local-prod'), {
      slots: slots(),
      slotPorts: sharedLayout,
    })
    const error = await conflict(
      claimSlot(home, instance(dir, 'beta-prod', 'beta', 'local-prod'), { slots: slots(), slotPorts: sharedLayout }),
    )
    assert.equal(error.code, 'E_PORT_CLAIMED')
    assert.match(error.message, /^slot 0 \(local-prod\): ports 39000, 39100 claimed by alpha-prod \(project alpha\)/)
  })

  test('a released claim frees its ports for another project', async () => {
    const { home, dir } = fixture()
    await claimSlot(home, instance(dir, 'alpha', 'alpha'), { slots: slots(), slotPorts: sharedLayout })
    rmSync(join(dir, 'alpha'), { recursive: true })
    const registry = JSON.parse(readFileSync(registryPaths(home).file, 'utf8'))
    registry.instances[0].owner = { pid: 2 ** 22 + 1 } // a pid that cannot be running
    writeFileSync(registryPaths(home).file, JSON.stringify(registry))
    const { record, released } = await claimSlot(home, instance(dir, 'beta', 'beta'), {
      slots: slots(),
      slotPorts: sharedLayout,
    })
    assert.equal(released[0]?.id, 'alpha')
    assert.equal(record.slot, 1)
  })

  test('20 claims from 20 processes of 20 projects sharing one layout get 20 disjoint port sets', {
    timeout: 120_000,
  }, async () => {
    const { home, dir } = fixture()
    const base = await freeBlock(20 * 3 + 2)
    const child = join(dir, 'claim-child.mts')
    writeFileSync(
      child,
      [
        `import { mkdirSync } from 'node:fs'`,
        `import { claimSlot, slotsConfigSchema } from ${JSON.stringify(join(PACKAGE, 'src/index.ts'))}`,
        `import { portConflicts } from ${JSON.stringify(join(PACKAGE, '../ports/src/index.ts'))}`,
        `const [home, path, project, base] = process.argv.slice(2)`,
        `mkdirSync(path, { recursive: true })`,
        `const { record } = await claimSlot(home, { id: project, project, kind: 'sandbox', slot: null, path, repo: path,`,
        `  createdByBerth: false, createdAt: new Date().toISOString() }, {`,
        `  slots: slotsConfigSchema.parse({ pool: Array.from({ length: 20 }, (_, i) => i + 1), max: 40 }),`,
        `  slotPorts: (slot) => ({ API_PORT: Number(base) + slot, DB_PORT: Number(base) + 30 + slot }),`,
        `  probePorts: (ports) => portConflicts(ports) })`,
        `process.stdout.write(JSON.stringify(record))`,
      ].join('\n'),
    )
    const projects = Array.from({ length: 20 }, (_, i) => `repo-${i + 1}`)
    const results = await Promise.all(
      projects.map((project) => runChild(child, [home, join(dir, project), project, String(base)])),
    )
    for (const result of results) assert.equal(result.code, 0, result.stderr)
    const records = results.map((result) => JSON.parse(result.stdout) as { ports: Record<string, number> })
    const ports = records.flatMap((record) => Object.values(record.ports))
    assert.equal(ports.length, 40)
    assert.equal(new Set(ports).size, 40, 'no port is claimed twice')
    const registry = await readRegistry(home)
    assert.equal(registry.instances.length, 20)
    assert.deepEqual(
      registry.instances.map((r) => r.slot).sort((a, b) => (a ?? 0) - (b ?? 0)),
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
  })
})

function runChild(file: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: PACKAGE,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The first port of `size` consecutive ports that can all be bound now, from a random start. */
async function freeBlock(size: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 41000 + Math.floor(Math.random() * 200) * 50
    const free = await Promise.all(Array.from({ length: size }, (_, i) => canBind(base + i)))
    if (free.every(Boolean)) return base
  }
  throw new Error('no free block of ports found')
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}
