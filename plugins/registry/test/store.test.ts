import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import {
  closeSync,
  existsSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { BerthError, type InstanceRecord } from '@berth/contract'
import {
  claimSlot,
  REGISTRY_VERSION,
  readRegistry,
  registryPaths,
  slotsConfigSchema,
  updateRegistry,
  writeRegistry,
} from '../src/index.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-registry-store-')))
after(() => rmSync(root, { recursive: true, force: true }))

let counter = 0
function home(): string {
  const dir = join(root, `home-${++counter}`)
  mkdirSync(dir, { recursive: true })
  return dir
}

function instance(dir: string, id: string): InstanceRecord & { ports: Record<string, number> } {
  mkdirSync(join(dir, id), { recursive: true })
  return {
    ports: {},
    id,
    project: 'acme',
    kind: 'sandbox',
    slot: null,
    path: join(dir, id),
    repo: dir,
    createdByBerth: false,
    createdAt: '2025-01-01T00:00:00.000Z',
  }
}

async function rejectsCorrupt(promise: Promise<unknown>, file: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BerthError)
    assert.equal(error.exitCode, 1)
    assert.equal(error.code, 'E_REGISTRY_CORRUPT')
    assert.ok(error.message.includes(file), `names the file: ${error.message}`)
    assert.match(error.message, /berth has not changed it/)
    return true
  })
}

describe('readRegistry', () => {
  test('reads a missing registry as empty without creating it', async () => {
    const dir = home()
    assert.deepEqual(await readRegistry(dir), { version: REGISTRY_VERSION, instances: [] })
    assert.equal(existsSync(registryPaths(dir).file), false)
  })

  test('fails (exit 1) naming a truncated registry and leaves it byte-for-byte intact', async () => {
    const dir = home()
    const { file } = registryPaths(dir)
    const truncated = Buffer.from('{"version":1,"instances":[{"id":"a","proj')
    writeFileSync(file, truncated)
    await rejectsCorrupt(readRegistry(dir), file)
    await rejectsCorrupt(claimSlot(dir, instance(dir, 'x'), { slots: slotsConfigSchema.parse({}) }), file)
    assert.deepEqual(readFileSync(file), truncated)
    assert.deepEqual(
      readdirSync(dir).filter((name) => name !== 'x'),
      ['registry.json'],
      'no lock or temp file left behind',
    )
  })

  test('fails (exit 1) on a registry of an unknown version, naming the path of the problem', async () => {
    const dir = home()
    const { file } = registryPaths(dir)
    writeFileSync(file, JSON.stringify({ version: 'one', instances: [] }))
    await rejectsCorrupt(readRegistry(dir), file)
    await assert.rejects(readRegistry(dir), /registry version 2: version:/)
  })

  test('refuses (exit 1) a registry written by a newer berth and leaves it byte-for-byte intact', async () => {
    const dir = home()
    const { file } = registryPaths(dir)
    const text = JSON.stringify({ version: 99, instances: [{ id: 'from-the-future' }] })
    writeFileSync(file, text)
    for (const attempt of [readRegistry(dir), updateRegistry(dir, (registry) => registry.instances.splice(0))]) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof BerthError)
        assert.equal(error.exitCode, 1)
        assert.equal(error.code, 'E_REGISTRY_NEWER')
        assert.match(error.message, /written by a newer berth \(registry version 99/)
        return true
      })
    }
    assert.equal(readFileSync(file, 'utf8'), text)
  })
})

describe('writeRegistry', () => {
  test('writes mode 0600 and reads back what it wrote', async () => {
    const dir = home()
    const registry = { version: REGISTRY_VERSION, instances: [{ ...instance(dir, 'a'), slot: 1 }] } as const
    await writeRegistry(dir, { ...registry, instances: [...registry.instances] })
    const { file } = registryPaths(dir)
    assert.equal(statSync(file).mode & 0o777, 0o600)
    assert.deepEqual((await readRegistry(dir)).instances, registry.instances)
  })

  test("writes its records' checksum; an edited record is checked against the schema again", async () => {
    const dir = home()
    await writeRegistry(dir, { version: REGISTRY_VERSION, instances: [{ ...instance(dir, 'a'), slot: 1 }] })
    const { file } = registryPaths(dir)
    const written = JSON.parse(readFileSync(file, 'utf8'))
    assert.match(written.checksum, /^cyrb53:[0-9a-f]+$/)
    // A valid edit: the checksum no longer matches, the schema accepts it.
    written.instances[0].createdAt = '2026-01-01T00:00:00.000Z'
    writeFileSync(file, JSON.stringify(written, null, 2))
    assert.equal((await readRegistry(dir)).instances[0]?.createdAt, '2026-01-01T00:00:00.000Z')
    // An invalid edit under the old checksum is refused, and the file left as it is.
    written.instances[0].slot = 'one'
    const broken = JSON.stringify(written, null, 2)
    writeFileSync(file, broken)
    await rejectsCorrupt(readRegistry(dir), file)
    assert.equal(readFileSync(file, 'utf8'), broken)
  })

  test('refuses to write a record the schema rejects', async () => {
    const dir = home()
    const bad = { version: REGISTRY_VERSION, instances: [{ id: '' }] } as never
    await assert.rejects(writeRegistry(dir, bad))
    assert.equal(existsSync(registryPaths(dir).file), false)
  })
})

describe('updateRegistry', () => {
  test('creates BERTH_HOME with mode 0700 on first use', async () => {
    const dir = join(home(), 'nested', 'berth')
    await updateRegistry(dir, (registry) => {
      registry.instances.push({ ...instance(root, 'first'), slot: 1 })
    })
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    assert.equal(statSync(registryPaths(dir).file).mode & 0o777, 0o600)
  })

  test('does not rewrite the file when the change mutated nothing', async () => {
    const dir = home()
    await updateRegistry(dir, (registry) => {
      registry.instances.push({ ...instance(dir, 'a'), slot: 1 })
    })
    const before = statSync(registryPaths(dir).file).mtimeMs
    await new Promise((resolve) => setTimeout(resolve, 20))
    const count = await updateRegistry(dir, (registry) => registry.instances.length)
    assert.equal(count, 1)
    assert.equal(statSync(registryPaths(dir).file).mtimeMs, before)
  })

  test('a change that throws leaves the registry as it was and releases the lock', async () => {
    const dir = home()
    await updateRegistry(dir, (registry) => {
      registry.instances.push({ ...instance(dir, 'a'), slot: 1 })
    })
    const before = readFileSync(registryPaths(dir).file)
    await assert.rejects(
      updateRegistry(dir, (registry) => {
        registry.instances = []
        throw new Error('changed my mind')
      }),
      /changed my mind/,
    )
    assert.deepEqual(readFileSync(registryPaths(dir).file), before)
    assert.equal(existsSync(registryPaths(dir).lock), false)
  })
})

/** Unmounts a test tmpfs; lazily when something still holds a file there, so cleanup never sticks. */
function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'ignore' })
  } catch {
    execFileSync('umount', ['-l', dir])
  }
}

describe('a full filesystem', () => {
  test('a failed write (ENOSPC) leaves the previous registry byte-for-byte intact and no temp file', async (t) => {
    // A real full filesystem: a tiny tmpfs (root can mount here; chmod would not stop root).
    const dir = join(home(), 'tmpfs')
    mkdirSync(dir)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', dir])
    t.after(() => unmount(dir))
    const elsewhere = home()
    await claimSlot(dir, instance(elsewhere, 'a'), { slots: slotsConfigSchema.parse({}) })
    const { file } = registryPaths(dir)
    const before = readFileSync(file)
    // Fill the filesystem, then free one page: enough for the lock file, not for the new registry.
    const filler = openSync(join(dir, 'filler'), 'w')
    const page = Buffer.alloc(4096, 1)
    let size = 0
    try {
      for (;;) {
        writeSync(filler, page)
        size += page.length
      }
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC')
    }
    ftruncateSync(filler, size - page.length)
    closeSync(filler)
    await assert.rejects(
      claimSlot(dir, instance(elsewhere, 'b'), { slots: slotsConfigSchema.parse({}) }),
      (error: unknown) => {
        assert.ok(error instanceof BerthError)
        assert.equal(error.code, 'E_REGISTRY_WRITE')
        assert.equal(error.exitCode, 1)
        assert.match(error.message, /no space left on device.*the previous registry is intact/i)
        return true
      },
    )
    assert.deepEqual(readFileSync(file), before)
    assert.deepEqual(readdirSync(dir).sort(), ['filler', 'registry.json'], 'no temp or lock file left')
    assert.deepEqual(
      (await readRegistry(dir)).instances.map((r) => r.id),
      ['a'],
    )
  })

  test('a lock that cannot be written (ENOSPC) fails with exit 1 and leaves no lock file behind', async (t) => {
    const dir = join(home(), 'tmpfs')
    mkdirSync(dir)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16k,mode=0700', 'tmpfs', dir])
    t.after(() => unmount(dir))
    const filler = openSync(join(dir, 'filler'), 'w')
    try {
      for (;;) writeSync(filler, Buffer.alloc(4096, 1))
    } catch {}
    closeSync(filler)
    await assert.rejects(
      updateRegistry(dir, (registry) => registry.instances.length),
      (error: unknown) => error instanceof BerthError && error.exitCode === 1,
    )
    assert.deepEqual(readdirSync(dir), ['filler'])
  })
})
