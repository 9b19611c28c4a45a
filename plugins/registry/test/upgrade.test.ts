/**
 * Registries written before ports were recorded (version 1): read and upgraded in place, every
 * claim kept. The fixture was written by berth's own CLI of that time (see fixtures/registry-v1).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { BerthError } from '@berth/contract'
import {
  claimSlot,
  type RegistryUpgrade,
  readRegistry,
  registryPaths,
  slotsConfigSchema,
  updateRegistry,
} from '../src/index.js'

const FIXTURE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures/registry-v1')
const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-registry-upgrade-')))
after(() => rmSync(root, { recursive: true, force: true }))

/** The default layout's API and DB ports, standing in for the ports plugin's `defaultSlotPorts`. */
const assumePorts = (slot: number) => ({ KTRDR_API_PORT: 8000 + slot, KTRDR_DB_PORT: 5432 + slot })

let counter = 0
/** The fixture's registry and folders (with their `.env.sandbox` files) under a fresh folder. */
function materialise(): { home: string; dir: string; text: string; v1: V1Registry } {
  const dir = join(root, `case-${++counter}`)
  const home = join(dir, 'home')
  mkdirSync(home, { recursive: true })
  const text = readFileSync(join(FIXTURE, 'registry.json'), 'utf8').replaceAll('__ROOT__', dir)
  const v1 = JSON.parse(text) as V1Registry
  for (const record of v1.instances) {
    mkdirSync(record.path, { recursive: true })
    const env = join(FIXTURE, 'env', `${record.id}.env.sandbox`)
    try {
      writeFileSync(join(record.path, '.env.sandbox'), readFileSync(env))
    } catch {
      // spec worktrees have none; beta-impl-lost-env lost its own
    }
  }
  writeFileSync(registryPaths(home).file, text, { mode: 0o600 })
  return { home, dir, text, v1 }
}

interface V1Registry {
  version: number
  instances: ({ id: string; slot: number | null; path: string } & Record<string, unknown>)[]
}

describe('upgrading a version 1 registry', () => {
  test('keeps every claim with every field, and gives each its ports from its .env.sandbox', async () => {
    const { home, v1 } = materialise()
    const upgrades: RegistryUpgrade[] = []
    const registry = await readRegistry(home, { assumePorts, onUpgrade: (upgrade) => upgrades.push(upgrade) })
    assert.equal(registry.version, 2)
    assert.equal(registry.instances.length, v1.instances.length)
    for (const [index, old] of v1.instances.entries()) {
      const { ports: _ports, portsAssumed: _assumed, ...kept } = registry.instances[index]!
      assert.deepEqual(kept, old, `${old.id} keeps every field it had`)
    }
    const ports = Object.fromEntries(registry.instances.map((r) => [r.id, r.ports]))
    assert.deepEqual(ports.alpha, { ALPHA_API_PORT: 39201, ALPHA_DB_PORT: 39301 })
    assert.deepEqual(ports['alpha-impl-login'], { ALPHA_API_PORT: 39202, ALPHA_DB_PORT: 39302 })
    assert.deepEqual(ports['alpha-prod'], { ALPHA_API_PORT: 39200, ALPHA_DB_PORT: 39300 })
    assert.deepEqual(ports['alpha-spec-notes'], {})
    assert.equal(Object.keys(ports.beta!).length, 11)
    assert.equal(ports.beta?.KTRDR_API_PORT, 8001)
    assert.equal(ports['beta-impl-search']?.KTRDR_WORKER_PORT_4, 5020)
    assert.equal(ports.beta?.SLOT_NUMBER, undefined, 'SLOT_NUMBER is not a port')
    assert.deepEqual(
      registry.instances.filter((r) => r.portsAssumed).map((r) => r.id),
      ['beta-impl-lost-env'],
    )
    assert.deepEqual(ports['beta-impl-lost-env'], assumePorts(3))
    assert.equal(upgrades.length, 1)
    assert.deepEqual(
      upgrades[0]!.assumed.map((a) => [a.id, a.slot]),
      [['beta-impl-lost-env', 3]],
    )
    assert.match(upgrades[0]!.assumed[0]!.reason, /^no .*beta-impl-lost-env\/\.env\.sandbox$/)
  })

  test('writes the upgrade in place once (mode 0600); later reads find version 2 and upgrade nothing', async () => {
    const { home } = materialise()
    const upgrades: RegistryUpgrade[] = []
    const options = { assumePorts, onUpgrade: (upgrade: RegistryUpgrade) => upgrades.push(upgrade) }
    const first = await readRegistry(home, options)
    const onDisk = JSON.parse(readFileSync(registryPaths(home).file, 'utf8'))
    assert.equal(onDisk.version, 2)
    const { checksum, ...records } = onDisk
    assert.match(checksum, /^cyrb53:[0-9a-f]+$/)
    assert.deepEqual(records, first)
    assert.deepEqual(await readRegistry(home, options), first)
    assert.equal(upgrades.length, 1)
  })

  test('a claim made on an old registry upgrades it and sees the old claims as holding their ports', async () => {
    const { home, dir } = materialise()
    mkdirSync(join(dir, 'gamma'))
    const { record, skipped } = await claimSlot(
      home,
      {
        id: 'gamma',
        project: 'gamma',
        kind: 'sandbox',
        slot: null,
        path: join(dir, 'gamma'),
        repo: join(dir, 'gamma'),
        createdByBerth: false,
        createdAt: new Date().toISOString(),
      },
      { slots: slotsConfigSchema.parse({ pool: [1, 2, 3, 4] }), slotPorts: assumePorts, store: { assumePorts } },
    )
    // beta holds slot 1 and 2's default ports, beta-impl-lost-env slot 3's (assumed).
    assert.equal(record.slot, 4)
    assert.deepEqual(
      skipped.map((s) => [s.slot, s.claims.map((c) => c.id)]),
      [
        [1, ['beta']],
        [2, ['beta-impl-search']],
        [3, ['beta-impl-lost-env']],
      ],
    )
    assert.equal((await readRegistry(home)).instances.length, 8)
  })

  test('an old registry with an invalid claim is reported (exit 1) and left byte-for-byte as it is', async () => {
    const { home, text } = materialise()
    const broken = text.replace('"kind": "impl"', '"kind": "feature"')
    writeFileSync(registryPaths(home).file, broken)
    for (const attempt of [readRegistry(home, { assumePorts }), updateRegistry(home, () => undefined)]) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof BerthError)
        assert.equal(error.code, 'E_REGISTRY_CORRUPT')
        assert.match(error.message, /does not match registry version 1: instances\.1\.kind/)
        return true
      })
    }
    assert.equal(readFileSync(registryPaths(home).file, 'utf8'), broken)
  })
})
