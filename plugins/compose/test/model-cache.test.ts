import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { loadComposeModel } from '../src/index.js'
import { loadModelCached } from '../src/model/cache.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-model-cache-')))
after(() => rmSync(root, { recursive: true, force: true }))

describe('the compose model cache', () => {
  const cache = join(root, 'cache')
  const previous = process.env.XDG_CACHE_HOME
  process.env.XDG_CACHE_HOME = cache
  after(() => {
    if (previous === undefined) delete process.env.XDG_CACHE_HOME
    else process.env.XDG_CACHE_HOME = previous
  })

  const counted = (files: string[]) => {
    let loads = 0
    const model = loadModelCached(files, () => {
      loads++
      return loadComposeModel(files)
    })
    return { model, loads }
  }

  test('a second load of unchanged files comes from the cache; a change to any file read (extended ones too) loads again', () => {
    const dir = join(root, 'repo')
    mkdirSync(dir)
    writeFileSync(join(dir, 'base.yaml'), 'services:\n  db:\n    image: postgres:16\n    ports: ["5432:5432"]\n')
    writeFileSync(
      join(dir, 'compose.yaml'),
      'services:\n  api:\n    image: api\n    ports: ["8000:8000"]\n  db:\n    extends: { file: base.yaml, service: db }\n',
    )
    const files = [join(dir, 'compose.yaml')]
    const first = counted(files)
    assert.equal(first.loads, 1)
    assert.deepEqual(first.model, loadComposeModel(files))
    assert.equal(readdirSync(join(cache, 'berth', 'compose-models')).length, 1)

    const second = counted(files)
    assert.equal(second.loads, 0, 'unchanged: from the cache')
    assert.deepEqual(second.model, first.model)

    writeFileSync(join(dir, 'base.yaml'), 'services:\n  db:\n    image: postgres:17\n    ports: ["5433:5432"]\n')
    const third = counted(files)
    assert.equal(third.loads, 1, 'an extended file changed: parsed again')
    assert.deepEqual((third.model.services.db as { ports: unknown }).ports, ['5433:5432'])
    assert.equal(counted(files).loads, 0)
  })

  test('a YAML value JSON cannot hold is never cached; BERTH_MODEL_CACHE=0 turns the cache off', () => {
    const dir = join(root, 'odd')
    mkdirSync(dir)
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  api:\n    image: api\n    x-ratio: .inf\n')
    const files = [join(dir, 'compose.yaml')]
    assert.equal(counted(files).loads, 1)
    assert.equal(counted(files).loads, 1, 'Infinity would come back as null: not kept')

    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  api:\n    image: api\n')
    process.env.BERTH_MODEL_CACHE = '0'
    try {
      assert.equal(counted(files).loads, 1)
      assert.equal(counted(files).loads, 1)
    } finally {
      delete process.env.BERTH_MODEL_CACHE
    }
  })
})
