import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { BerthError, type InstanceRecord } from '@berth/contract'
import { makeTestContext } from '@berth/contract/testing'
import { claimSlot, registryPlugin, sameRepository, slotsConfigSchema } from '../src/index.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-registry-repository-')))
after(() => rmSync(root, { recursive: true, force: true }))

describe('sameRepository', () => {
  test('one main checkout, one origin, or a clone of the main checkout is one repository', () => {
    assert.ok(sameRepository({ repo: '/a/api', origin: null }, { repo: '/a/api', origin: null }))
    assert.ok(
      sameRepository({ repo: '/a/api', origin: 'git@host:me/api' }, { repo: '/c/prod', origin: 'git@host:me/api' }),
    )
    assert.ok(sameRepository({ repo: '/a/api', origin: null }, { repo: '/c/prod', origin: '/a/api' }))
    assert.ok(sameRepository({ repo: '/c/prod', origin: '/a/api' }, { repo: '/a/api', origin: 'git@host:me/api' }))
  })

  test('two repositories that only share a folder name are not', () => {
    assert.ok(!sameRepository({ repo: '/a/api', origin: null }, { repo: '/b/api', origin: null }))
    assert.ok(
      !sameRepository({ repo: '/a/api', origin: 'git@host:a/api' }, { repo: '/b/api', origin: 'git@host:b/api' }),
    )
  })

  test('a claim whose origin was never recorded counts as the same repository, as before', () => {
    assert.ok(sameRepository({ repo: '/a/api' }, { repo: '/b/api', origin: null }))
  })
})

describe('claims of two repositories sharing a project name', () => {
  let counter = 0
  function checkout(side: string, id: string, kind: InstanceRecord['kind'] = 'impl'): InstanceRecord {
    const path = join(root, `case-${counter}`, side, id)
    mkdirSync(path, { recursive: true })
    return {
      id,
      project: 'api',
      kind,
      slot: null,
      path,
      repo: join(root, `case-${counter}`, side, 'api'),
      createdByBerth: true,
      createdAt: new Date().toISOString(),
    }
  }
  const slots = slotsConfigSchema.parse({ pool: [1, 2] })

  test('number their slots and local-prod apart, and record each claim with its origin', async () => {
    counter++
    const home = join(root, `case-${counter}`, 'home')
    const layoutA = (slot: number) => ({ A_PORT: 39700 + slot })
    const layoutB = (slot: number) => ({ B_PORT: 39800 + slot })
    const a = await claimSlot(home, checkout('a', 'api-impl-x'), { slots, slotPorts: layoutA, origin: 'git@h:a/api' })
    const b = await claimSlot(home, checkout('b', 'api-impl-y'), { slots, slotPorts: layoutB, origin: 'git@h:b/api' })
    assert.equal(a.record.slot, 1)
    assert.equal(b.record.slot, 1, "slot 1 of b's repository: its ports meet nobody's")
    assert.equal(b.record.origin, 'git@h:b/api')
    const opts = { slots, slotPorts: layoutA }
    await claimSlot(home, checkout('a', 'api-prod', 'local-prod'), { ...opts, origin: 'git@h:a/api' })
    const second = await claimSlot(home, checkout('b', 'api-prod-b', 'local-prod'), {
      slots,
      slotPorts: layoutB,
      origin: 'git@h:b/api',
    })
    assert.equal(second.record.slot, 0, 'one local-prod per project of each repository')
  })

  test('are not duplicate claims for doctor when both hold slot 1 of their own repository', async () => {
    counter++
    const home = join(root, `case-${counter}`, 'home')
    await claimSlot(home, checkout('a', 'api-impl-x'), {
      slots,
      slotPorts: (n) => ({ A: 39900 + n }),
      origin: 'git@h:a/api',
    })
    await claimSlot(home, checkout('b', 'api-impl-y'), {
      slots,
      slotPorts: (n) => ({ B: 39950 + n }),
      origin: 'git@h:b/api',
    })
    const ctx = makeTestContext({ root, home, project: 'api' })
    const checks = (await registryPlugin().diagnose!(ctx)).map((d) => d.check)
    assert.ok(checks.includes('registry'))
    assert.ok(!checks.includes('duplicate claims'), checks.join(', '))
  })

  test("refuse an id the other repository's checkout holds (exit 3), naming that checkout", async () => {
    counter++
    const home = join(root, `case-${counter}`, 'home')
    const a = checkout('a', 'api-impl-x')
    await claimSlot(home, a, { slots, origin: null })
    await assert.rejects(claimSlot(home, checkout('b', 'api-impl-x'), { slots, origin: null }), (error: unknown) => {
      assert.ok(error instanceof BerthError)
      assert.equal(error.exitCode, 3)
      assert.equal(error.code, 'E_INSTANCE_EXISTS')
      assert.match(error.message, new RegExp(`already registered for another checkout, ${a.path}`))
      return true
    })
  })
})
