import assert from 'node:assert/strict'
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  compareBundleNames,
  createBundleDir,
  listBundles,
  newestBundleWith,
  pruneBundles,
  utcStamp,
} from '../src/index.js'
import { tempDir } from './helpers.js'

describe('bundle folders', () => {
  const root = tempDir()
  after(() => rmSync(root, { recursive: true, force: true }))

  test('are named by UTC time to the second', () => {
    assert.equal(utcStamp(new Date('2026-11-22T18:55:12.999Z')), '20261122T185512Z')
  })

  test('a second bundle in the same second gets -2, then -3, and they sort in creation order', async () => {
    const parent = join(root, 'same-second')
    const when = new Date('2026-11-22T18:55:12Z')
    const made = []
    for (let i = 0; i < 11; i++) made.push(await createBundleDir(parent, when))
    assert.equal(made[0], join(parent, '20261122T185512Z'))
    assert.equal(made[1], join(parent, '20261122T185512Z-2'))
    assert.deepEqual(
      await listBundles(parent),
      made.map((dir) => dir.slice(parent.length + 1)),
    )
    assert.ok(compareBundleNames('20261122T185512Z-10', '20261122T185512Z-2') > 0)
    assert.ok(compareBundleNames('20261122T185511Z-9', '20261122T185512Z') < 0)
  })

  test('pruning keeps the newest bundles and the current one, and ignores other folders', async () => {
    const parent = join(root, 'prune')
    for (const name of ['20260101T000000Z', '20260102T000000Z', '20260103T000000Z', '20260104T000000Z', 'notes']) {
      mkdirSync(join(parent, name), { recursive: true })
    }
    writeFileSync(join(parent, 'README'), 'kept\n')
    assert.deepEqual(await pruneBundles(parent, 2), ['20260101T000000Z', '20260102T000000Z'])
    assert.deepEqual(await listBundles(parent), ['20260103T000000Z', '20260104T000000Z'])
    assert.ok(existsSync(join(parent, 'notes')) && existsSync(join(parent, 'README')))
    // A bundle written with a clock that went back is the current one: it stays.
    mkdirSync(join(parent, '20250101T000000Z'))
    assert.deepEqual(await pruneBundles(parent, 1, '20250101T000000Z'), ['20260103T000000Z', '20260104T000000Z'])
    assert.deepEqual(await listBundles(parent), ['20250101T000000Z'])
  })

  test('the newest earlier bundle holding a file is found, skipping the current one', async () => {
    const parent = join(root, 'gate')
    for (const [name, gate] of [
      ['20260101T000000Z', true],
      ['20260102T000000Z', true],
      ['20260103T000000Z', false],
      ['20260104T000000Z', true],
    ] as const) {
      mkdirSync(join(parent, name), { recursive: true })
      if (gate) writeFileSync(join(parent, name, 'gate.json'), '{}\n')
    }
    assert.equal(await newestBundleWith(parent, 'gate.json', '20260104T000000Z'), '20260102T000000Z')
    assert.equal(await newestBundleWith(parent, 'gate.json'), '20260104T000000Z')
    assert.equal(await newestBundleWith(join(root, 'absent'), 'gate.json'), undefined)
  })
})
