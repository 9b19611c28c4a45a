/**
 * The running-stacks cap's bookkeeping against the real Docker engine (asked which compose
 * projects run: none of these made-up instances does) and real files in a temp BERTH_HOME.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { isBerthError } from '@berth/contract'
import { liveTickets, releaseTicket, reservePlace, runningCap, type StartTicket } from '../src/index.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-capacity-')))
after(() => rmSync(root, { recursive: true, force: true }))
let counter = 0
const freshHome = () => join(root, `home-${++counter}`)
const RUN = Math.random().toString(36).slice(2, 8)
const instance = (name: string) => ({
  id: `cap${RUN}-impl-${name}`,
  project: `cap${RUN}`,
  path: `/src/cap-impl-${name}`,
})

function request(home: string, name: string, max: number, extra: Partial<Parameters<typeof reservePlace>[0]> = {}) {
  return {
    home,
    instance: instance(name),
    cap: { max, source: 'limits.maxRunning' as const },
    command: `berth impl ${name}`,
    queue: false,
    queueTimeoutMs: 10_000,
    signal: new AbortController().signal,
    onWait: () => {},
    ...extra,
  }
}

describe('runningCap', () => {
  test('BERTH_MAX_RUNNING wins over the config, 0 turns the cap off, and unset leaves the config', () => {
    assert.deepEqual(runningCap(2, { BERTH_MAX_RUNNING: '5' }), { max: 5, source: 'BERTH_MAX_RUNNING' })
    assert.equal(runningCap(2, { BERTH_MAX_RUNNING: '0' }), undefined)
    assert.deepEqual(runningCap(2, { BERTH_MAX_RUNNING: ' ' }), { max: 2, source: 'limits.maxRunning' })
    assert.equal(runningCap(undefined, {}), undefined)
  })

  test('a BERTH_MAX_RUNNING that is not a whole number is a usage error (exit 2) naming it', () => {
    for (const bad of ['lots', '-1', '2.5', '1e3', '5000']) {
      assert.throws(
        () => runningCap(2, { BERTH_MAX_RUNNING: bad }),
        (error: unknown) => isBerthError(error) && error.exitCode === 2 && error.message.includes('BERTH_MAX_RUNNING'),
      )
    }
  })
})

describe('reservePlace', () => {
  test('eight reservations at once under a cap of 3: exactly three get a place, the others exit 3 naming them', async () => {
    const home = freshHome()
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    const results = await Promise.allSettled(names.map((name) => reservePlace(request(home, name, 3))))
    const granted = results.filter((r) => r.status === 'fulfilled')
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    assert.equal(granted.length, 3)
    assert.equal(refused.length, 5)
    for (const { reason } of refused) {
      assert.ok(isBerthError(reason) && reason.exitCode === 3 && reason.code === 'E_CAP_REACHED', String(reason))
      assert.equal(((reason.details?.running ?? []) as unknown[]).length, 3)
      assert.match(reason.message, /starting: pid \d+ berth impl/)
    }
    assert.equal((await liveTickets(home)).length, 3)
    assert.equal(readdirSync(join(home, 'starting')).length, 3)
  })

  test('six instances reserving and releasing at once, 12 times each: every reservation is written, and no folder is left', async () => {
    const home = freshHome()
    const loop = async (n: number) => {
      for (let i = 0; i < 12; i++) {
        const { ticket } = await reservePlace(request(home, `churn-${n}`, 20))
        assert.ok(ticket)
        await releaseTicket(home, ticket)
      }
    }
    await Promise.all(Array.from({ length: 6 }, (_, n) => loop(n)))
    assert.equal(existsSync(join(home, 'starting')), false)
  })

  test('a reservation of a dead process does not count and is removed', async () => {
    const home = freshHome()
    const dead = spawnSync(process.execPath, ['-e', '']).pid!
    mkdirSync(join(home, 'starting'), { recursive: true })
    const stale: StartTicket = {
      ...instance('old'),
      pid: dead,
      command: 'berth impl old',
      since: new Date().toISOString(),
    }
    writeFileSync(join(home, 'starting', `${stale.id}.json`), JSON.stringify(stale))
    const result = await reservePlace(request(home, 'new', 1))
    assert.deepEqual(result.others, [])
    assert.ok(!existsSync(join(home, 'starting', `${stale.id}.json`)))
  })

  test('--queue waits while the cap is reached, says whom it waits for, and takes the place once it is given back', async () => {
    const home = freshHome()
    const first = await reservePlace(request(home, 'first', 1))
    const waitedFor: string[][] = []
    const queued = reservePlace(
      request(home, 'second', 1, {
        queue: true,
        pollMs: 50,
        onWait: (stacks) => waitedFor.push(stacks.map((s) => s.id)),
      }),
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.deepEqual(waitedFor, [[instance('first').id]])
    await releaseTicket(home, first.ticket!)
    const second = await queued
    assert.equal(second.ticket?.id, instance('second').id)
    assert.ok(second.waitedMs >= 200)
  })

  test('the queue gives up after its timeout with exit 3, and an abort (Ctrl-C) exits 130 holding no place', async () => {
    const home = freshHome()
    await reservePlace(request(home, 'holder', 1))
    await assert.rejects(
      reservePlace(request(home, 'late', 1, { queue: true, pollMs: 20, queueTimeoutMs: 100 })),
      (error: unknown) => isBerthError(error) && error.exitCode === 3 && /still after waiting/.test(error.message),
    )
    const abort = new AbortController()
    const queued = reservePlace(request(home, 'stopped', 1, { queue: true, pollMs: 20, signal: abort.signal }))
    setTimeout(() => abort.abort('SIGINT'), 100)
    await assert.rejects(queued, (error: unknown) => isBerthError(error) && error.exitCode === 130)
    assert.deepEqual(
      (await liveTickets(home)).map((t) => t.id),
      [instance('holder').id],
    )
  })
})
