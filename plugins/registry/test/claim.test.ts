import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { BerthError, type InstanceKind, type InstanceRecord, type PortHolder } from '@berth/contract'
import {
  claimSlot,
  readRegistry,
  registryPaths,
  releaseInstance,
  type SlotsConfig,
  slotsConfigSchema,
} from '../src/index.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-registry-claim-')))
after(() => rmSync(root, { recursive: true, force: true }))

let counter = 0
/** A fresh BERTH_HOME and a folder for instances, both under this file's temp root. */
function fixture(): { home: string; dir: string } {
  const dir = join(root, `case-${++counter}`)
  mkdirSync(join(dir, 'home'), { recursive: true })
  return { home: join(dir, 'home'), dir }
}

/** An instance whose folder exists (so it is never taken for a stale claim). */
function instance(dir: string, id: string, kind: InstanceKind = 'sandbox', project = 'acme'): InstanceRecord {
  const path = join(dir, id)
  mkdirSync(path, { recursive: true })
  return { id, project, kind, slot: null, path, repo: dir, createdByBerth: false, createdAt: new Date().toISOString() }
}

const slots = (written: Partial<SlotsConfig> = {}): SlotsConfig => slotsConfigSchema.parse(written)

/** Asserts `promise` rejects with a BerthError of `exitCode` and returns it for more checks. */
async function rejectsWith(promise: Promise<unknown>, exitCode: number): Promise<BerthError> {
  try {
    await promise
  } catch (error) {
    assert.ok(error instanceof BerthError, `expected a BerthError, got ${error}`)
    assert.equal(error.exitCode, exitCode, error.message)
    assert.ok(error.hint, 'every refusal says how to fix it')
    return error
  }
  assert.fail(`expected a rejection with exit code ${exitCode}`)
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  assert.ok(child.pid)
  return child.pid
}

describe('claimSlot', () => {
  test('claims the lowest free pool slot and records the claiming process', async () => {
    const { home, dir } = fixture()
    const first = await claimSlot(home, instance(dir, 'a'), { slots: slots({ pool: [3, 1, 2] }) })
    const second = await claimSlot(home, instance(dir, 'b'), { slots: slots({ pool: [3, 1, 2] }) })
    assert.equal(first.record.slot, 1)
    assert.equal(second.record.slot, 2)
    assert.equal(first.record.owner?.pid, process.pid)
    const registry = await readRegistry(home)
    assert.deepEqual(
      registry.instances.map((r) => [r.id, r.slot]),
      [
        ['a', 1],
        ['b', 2],
      ],
    )
  })

  test('gives a released slot to the next claim', async () => {
    const { home, dir } = fixture()
    await claimSlot(home, instance(dir, 'a'), { slots: slots() })
    await claimSlot(home, instance(dir, 'b'), { slots: slots() })
    const released = await releaseInstance(home, 'a')
    assert.equal(released?.slot, 1)
    const third = await claimSlot(home, instance(dir, 'c'), { slots: slots() })
    assert.equal(third.record.slot, 1)
  })

  test("ignores other projects' claims on the same slot number when their ports differ", async () => {
    const { home, dir } = fixture()
    await claimSlot(home, instance(dir, 'other', 'sandbox', 'other-project'), {
      slots: slots(),
      slotPorts: (slot) => ({ OTHER_PORT: 39500 + slot }),
    })
    const mine = await claimSlot(home, instance(dir, 'mine'), {
      slots: slots(),
      slotPorts: (slot) => ({ MINE_PORT: 39600 + slot }),
    })
    assert.equal(mine.record.slot, 1)
    assert.deepEqual(mine.record.ports, { MINE_PORT: 39601 })
  })

  test('skips a pool slot whose ports something else holds, and reports who', async () => {
    const { home, dir } = fixture()
    const holder: PortHolder = { port: 8001, pid: 4242, command: 'python3 -m http.server', description: 'pid 4242' }
    const probed: number[] = []
    const result = await claimSlot(home, instance(dir, 'a'), {
      slots: slots(),
      probeSlot: async (slot) => {
        probed.push(slot)
        return slot === 1 ? [holder] : []
      },
    })
    assert.equal(result.record.slot, 2)
    assert.deepEqual(probed, [1, 2])
    assert.deepEqual(result.skipped, [{ slot: 1, claims: [], holders: [holder] }])
  })

  test('gives an explicit --slot outside the pool', async () => {
    const { home, dir } = fixture()
    const result = await claimSlot(home, instance(dir, 'a'), { slots: slots(), slot: 7 })
    assert.equal(result.record.slot, 7)
  })

  test('refuses an explicit slot another instance holds with a conflict (exit 3) naming it', async () => {
    const { home, dir } = fixture()
    await claimSlot(home, instance(dir, 'a'), { slots: slots(), slot: 5 })
    const error = await rejectsWith(claimSlot(home, instance(dir, 'b'), { slots: slots(), slot: 5 }), 3)
    assert.equal(error.code, 'E_SLOT_TAKEN')
    assert.match(error.message, /slot 5 is claimed by a /)
    assert.equal((await readRegistry(home)).instances.length, 1, 'the refused claim left nothing behind')
  })

  test('refuses an explicit slot whose ports are held with a conflict (exit 3) naming the holder', async () => {
    const { home, dir } = fixture()
    const holder: PortHolder = { port: 8005, description: 'pid 99 (nginx)' }
    const error = await rejectsWith(
      claimSlot(home, instance(dir, 'a'), { slots: slots(), slot: 5, probeSlot: async () => [holder] }),
      3,
    )
    assert.equal(error.code, 'E_PORT_TAKEN')
    assert.match(error.message, /port 8005 held by pid 99 \(nginx\)/)
  })

  test('refuses reserved slot 0 for a sandbox with a usage error (exit 2)', async () => {
    const { home, dir } = fixture()
    const error = await rejectsWith(claimSlot(home, instance(dir, 'a'), { slots: slots(), slot: 0 }), 2)
    assert.match(error.message, /slot 0 is reserved for local-prod/)
    assert.match(error.hint ?? '', /local-prod init/)
  })

  test('refuses a slot above max with a usage error (exit 2)', async () => {
    const { home, dir } = fixture()
    const error = await rejectsWith(claimSlot(home, instance(dir, 'a'), { slots: slots({ max: 4 }), slot: 5 }), 2)
    assert.match(error.message, /outside 1\.\.4/)
  })

  test('fails with a conflict (exit 3) listing every holder when the pool is exhausted', async () => {
    const { home, dir } = fixture()
    const a = instance(dir, 'a')
    await claimSlot(home, a, { slots: slots() })
    const error = await rejectsWith(
      claimSlot(home, instance(dir, 'b'), {
        slots: slots(),
        probeSlot: async (slot) => (slot === 2 ? [{ port: 8002, description: 'pid 7 (postgres)' }] : []),
      }),
      3,
    )
    assert.equal(error.code, 'E_POOL_EXHAUSTED')
    assert.match(error.message, /no free slot in the pool \[1, 2\]/)
    assert.ok(error.message.includes(`slot 1: a (${a.path})`), error.message)
    assert.ok(error.message.includes('slot 2: port 8002 held by pid 7 (postgres)'), error.message)
  })

  test('gives local-prod slot 0 and refuses a second local-prod with a conflict (exit 3) naming the first', async () => {
    const { home, dir } = fixture()
    const first = instance(dir, 'acme-local-prod', 'local-prod')
    const claimed = await claimSlot(home, first, { slots: slots() })
    assert.equal(claimed.record.slot, 0)
    const error = await rejectsWith(claimSlot(home, instance(dir, 'acme-prod-2', 'local-prod'), { slots: slots() }), 3)
    assert.match(error.message, new RegExp(`local-prod already exists: acme-local-prod at ${first.path}`))
  })

  test('registers a spec worktree without a slot', async () => {
    const { home, dir } = fixture()
    const result = await claimSlot(home, instance(dir, 'acme-spec-x', 'spec'), { slots: slots() })
    assert.equal(result.record.slot, null)
  })

  test('refuses a second registration of the same id or the same folder (exit 3)', async () => {
    const { home, dir } = fixture()
    const a = instance(dir, 'a')
    await claimSlot(home, a, { slots: slots() })
    const sameId = await rejectsWith(claimSlot(home, { ...a, path: join(dir, 'elsewhere') }, { slots: slots() }), 3)
    assert.equal(sameId.code, 'E_INSTANCE_EXISTS')
    const samePath = await rejectsWith(claimSlot(home, { ...a, id: 'a2' }, { slots: slots() }), 3)
    assert.equal(samePath.code, 'E_INSTANCE_EXISTS')
  })

  test('releases a claim whose folder is gone and whose berth process died, and reports it', async () => {
    const { home, dir } = fixture()
    const { file } = registryPaths(home)
    const gone = join(dir, 'gone')
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        instances: [
          {
            ...instance(dir, 'placeholder'),
            id: 'gone',
            path: gone,
            slot: 1,
            owner: { pid: deadPid() },
          },
        ],
      }),
    )
    const result = await claimSlot(home, instance(dir, 'next'), { slots: slots() })
    assert.deepEqual(result.released, [{ id: 'gone', slot: 1, path: gone, reason: 'path gone' }])
    assert.equal(result.record.slot, 1)
    assert.deepEqual(
      (await readRegistry(home)).instances.map((r) => r.id),
      ['next'],
    )
  })

  test('keeps a claim whose folder does not exist yet while its berth process is alive', async () => {
    const { home, dir } = fixture()
    const pending = { ...instance(dir, 'placeholder'), id: 'pending', path: join(dir, 'not-yet') }
    await claimSlot(home, pending, { slots: slots() })
    const result = await claimSlot(home, instance(dir, 'next'), { slots: slots() })
    assert.deepEqual(result.released, [])
    assert.equal(result.record.slot, 2)
  })

  test('gives 10 concurrent claims 10 distinct slots', async () => {
    const { home, dir } = fixture()
    const pool = Array.from({ length: 10 }, (_, i) => i + 1)
    const results = await Promise.all(
      pool.map((i) => claimSlot(home, instance(dir, `c${i}`), { slots: slots({ pool, max: 10 }) })),
    )
    assert.deepEqual(
      results.map((r) => r.record.slot).sort((a, b) => (a ?? 0) - (b ?? 0)),
      pool,
    )
    const stored = JSON.parse(readFileSync(registryPaths(home).file, 'utf8')) as { instances: unknown[] }
    assert.equal(stored.instances.length, 10)
  })
})

describe('slotsConfigSchema', () => {
  test('fills the default pool 1-2, max 10 and reserved slot 0', () => {
    assert.deepEqual(slotsConfigSchema.parse(undefined), { pool: [1, 2], max: 10, reserved: [0] })
  })

  test('rejects a pool slot above max or reserved, naming its index', () => {
    const parsed = slotsConfigSchema.safeParse({ pool: [1, 12], max: 10, reserved: [0, 1] })
    assert.equal(parsed.success, false)
    const issues = parsed.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
    assert.deepEqual(issues.sort(), ['pool.0: slot 1 is reserved', 'pool.1: slot 12 exceeds max 10'])
  })
})
