/**
 * Instance locks taken and released by many operations at once, in one real BERTH_HOME: the
 * release removes the empty `locks/` folder, which must never make another acquire fail.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { acquireInstanceLock, releaseInstanceLock } from '../src/index.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-instance-lock-')))
after(() => rmSync(root, { recursive: true, force: true }))

describe('instance locks', () => {
  test('eight instances locked and released 60 times each at once: every acquire succeeds, and no folder is left', async () => {
    const home = join(root, 'home')
    const loop = async (n: number) => {
      for (let i = 0; i < 60; i++) {
        const holder = await acquireInstanceLock(home, `proj-impl-${n}`, `berth sandbox init ${n}`)
        await releaseInstanceLock(home, holder)
      }
    }
    await Promise.all(Array.from({ length: 8 }, (_, n) => loop(n)))
    assert.equal(existsSync(join(home, 'locks')), false)
  })
})
