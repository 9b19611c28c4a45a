import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { formatEnvFile, parseEnvFile } from '@berth/contract'
import { SHARED_VERSION, sharedDataSchema, sharedEnv, sharedPlugin } from '../src/index.js'
import { makeContext, makeInstance } from './helpers.js'

const issues = (input: unknown) => {
  const result = sharedDataSchema.safeParse(input)
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`)
}

describe('the sharedData section', () => {
  test('defaults to no folders', () => {
    assert.deepEqual(sharedDataSchema.parse(undefined), { dirs: {} })
  })

  test('folder names are single path segments: no "/", no "..", no hidden names', () => {
    for (const name of ['a/b', '..', 'x..y', '.hidden', '', 'has space']) {
      assert.notDeepEqual(issues({ dirs: { [name]: 'SOME_DIR' } }), [], name)
    }
    assert.deepEqual(issues({ dirs: { data: 'KTRDR_DATA_DIR', 'models.v2': 'KTRDR_MODELS_DIR' } }), [])
  })

  test('variables must be env names and each may carry one folder only', () => {
    assert.match(issues({ dirs: { data: 'not-a-var' } }).join('\n'), /^dirs\.data: must be an environment variable/)
    assert.deepEqual(issues({ dirs: { data: 'X_DIR', models: 'X_DIR' } }), [
      'dirs.models: X_DIR is already used by "data"',
    ])
    assert.deepEqual(issues({ dirs: { data: 'X_DIR' }, root: 'X_DIR' }), ['root: X_DIR is already used by "data"'])
    assert.notDeepEqual(issues({ dirs: {}, extra: 1 }), [])
  })
})

describe('the instanceEnv service', () => {
  test('gives every instance the host paths of the shared folders and the root, as valid .env.sandbox lines', async () => {
    const home = '/home/dev/.berth'
    const ctx = makeContext({
      root: '/repo',
      home,
      sharedData: sharedDataSchema.parse({
        dirs: { data: 'KTRDR_DATA_DIR', models: 'KTRDR_MODELS_DIR' },
        root: 'KTRDR_SHARED_DIR',
      }),
    })
    const env = await sharedPlugin().services(ctx).instanceEnv!(makeInstance('a', '/repo-a'))
    assert.deepEqual(env, {
      KTRDR_SHARED_DIR: '/home/dev/.berth/shared',
      KTRDR_DATA_DIR: '/home/dev/.berth/shared/data',
      KTRDR_MODELS_DIR: '/home/dev/.berth/shared/models',
    })
    assert.deepEqual(parseEnvFile(formatEnvFile(env)), env)
    assert.deepEqual(sharedEnv(home, sharedDataSchema.parse({})), {})
  })

  test('the plugin is named berth:shared, owns sharedData and matches its package version', () => {
    const plugin = sharedPlugin()
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.equal(plugin.name, 'berth:shared')
    assert.equal(plugin.version, pkg.version)
    assert.equal(SHARED_VERSION, pkg.version)
    assert.deepEqual(
      plugin.sections?.map((s) => s.name),
      ['sharedData'],
    )
    assert.deepEqual(Object.keys(plugin.steps), ['init', 'status'])
    assert.equal(typeof plugin.steps.init.undo, 'function')
  })
})
