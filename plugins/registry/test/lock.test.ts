import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { BerthError } from '@berth/contract'
import { ownerAlive, processStartTime, withLock } from '../src/index.js'

const PACKAGE = join(dirname(fileURLToPath(import.meta.url)), '..')
const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-registry-lock-')))
after(() => rmSync(root, { recursive: true, force: true }))

let counter = 0
const lockPath = () => join(root, `case-${++counter}.lock`)

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  assert.ok(child.pid)
  return child.pid
}

/** Runs `code` (TypeScript, top-level await allowed) in a fresh node process through tsx. */
function runChild(file: string, args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
      cwd: PACKAGE, // tsx resolves from here
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let stderr = ''
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.once('error', reject)
    child.once('close', (code) => resolve({ code, stderr }))
  })
}

describe('withLock', () => {
  test('holds a 0600 lock file with its pid during the critical section and removes it after', async () => {
    const lock = lockPath()
    const seen = await withLock(lock, async () => ({
      mode: statSync(lock).mode & 0o777,
      holder: JSON.parse(readFileSync(lock, 'utf8')) as { pid: number; startTime?: string },
    }))
    assert.equal(seen.mode, 0o600)
    assert.equal(seen.holder.pid, process.pid)
    assert.equal(seen.holder.startTime, await processStartTime(process.pid))
    assert.equal(existsSync(lock), false)
  })

  test('releases the lock when the critical section throws', async () => {
    const lock = lockPath()
    await assert.rejects(
      withLock(lock, async () => {
        throw new Error('boom')
      }),
      /boom/,
    )
    assert.equal(existsSync(lock), false)
  })

  test('serialises critical sections of one process', async () => {
    const lock = lockPath()
    const events: string[] = []
    await Promise.all(
      ['a', 'b', 'c', 'd'].map((name) =>
        withLock(lock, async () => {
          events.push(`enter ${name}`)
          await new Promise((resolve) => setTimeout(resolve, 5))
          events.push(`exit ${name}`)
        }),
      ),
    )
    for (let i = 0; i < events.length; i += 2) {
      assert.equal(events[i]!.replace('enter', 'exit'), events[i + 1], events.join(', '))
    }
  })

  test('takes over a lock whose holder is dead without waiting for the timeout', async () => {
    const lock = lockPath()
    writeFileSync(lock, JSON.stringify({ pid: deadPid(), acquiredAt: '2020-01-01T00:00:00.000Z' }))
    const started = Date.now()
    const result = await withLock(lock, async () => 'got it', { timeoutMs: 10_000 })
    assert.equal(result, 'got it')
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`)
    assert.equal(existsSync(lock), false)
    assert.equal(existsSync(`${lock}.steal`), false)
  })

  test('times out (exit 1) naming the holder while a live process holds the lock', async () => {
    const lock = lockPath()
    writeFileSync(lock, JSON.stringify({ pid: process.pid, acquiredAt: new Date().toISOString() }))
    await assert.rejects(
      withLock(lock, async () => 'never', { timeoutMs: 200 }),
      (error: unknown) => {
        assert.ok(error instanceof BerthError)
        assert.equal(error.code, 'E_LOCK_TIMEOUT')
        assert.equal(error.exitCode, 1)
        assert.ok(error.message.includes(`"pid":${process.pid}`), error.message)
        return true
      },
    )
    assert.ok(existsSync(lock), 'a live holder keeps its lock')
  })

  test('admits one process at a time across 8 concurrent processes (no overlapping sections)', async () => {
    const lock = lockPath()
    const journal = join(root, `journal-${counter}.log`)
    const tally = join(root, `tally-${counter}.txt`)
    writeFileSync(tally, '0')
    const child = join(root, 'lock-child.mts')
    writeFileSync(
      child,
      [
        `import { appendFileSync, readFileSync, writeFileSync } from 'node:fs'`,
        `import { withLock } from ${JSON.stringify(join(PACKAGE, 'src/lock.ts'))}`,
        `const [lock, journal, tally] = process.argv.slice(2)`,
        `for (let i = 0; i < 5; i++) {`,
        `  await withLock(lock, async () => {`,
        `    appendFileSync(journal, 'enter ' + process.pid + '\\n')`,
        `    const n = Number(readFileSync(tally, 'utf8'))`,
        `    await new Promise((r) => setTimeout(r, 3))`,
        `    writeFileSync(tally, String(n + 1))`,
        `    appendFileSync(journal, 'exit ' + process.pid + '\\n')`,
        `  })`,
        `}`,
      ].join('\n'),
    )
    const results = await Promise.all(Array.from({ length: 8 }, () => runChild(child, [lock, journal, tally])))
    for (const result of results) assert.equal(result.code, 0, result.stderr)
    const lines = readFileSync(journal, 'utf8').trim().split('\n')
    assert.equal(lines.length, 8 * 5 * 2)
    let inside: string | undefined
    let overlaps = 0
    for (const line of lines) {
      const [event, pid] = line.split(' ')
      if (event === 'enter') {
        if (inside !== undefined) overlaps++
        inside = pid
      } else {
        if (inside !== pid) overlaps++
        inside = undefined
      }
    }
    assert.equal(overlaps, 0, lines.join('\n'))
    assert.equal(readFileSync(tally, 'utf8'), '40', 'no read-modify-write was lost')
    assert.equal(existsSync(lock), false)
  })
})

describe('ownerAlive', () => {
  test('is true for this process and false for an exited one', async () => {
    assert.equal(await ownerAlive({ pid: process.pid, startTime: await processStartTime(process.pid) }), true)
    assert.equal(await ownerAlive({ pid: deadPid() }), false)
  })

  test('is false for a live pid whose start time differs (a reused pid)', async () => {
    assert.equal(await ownerAlive({ pid: process.pid, startTime: '1' }), false)
  })
})
