/**
 * The caches berth keeps between runs for its read-only commands (issue 16): validated config
 * sections and parsed compose models, in the user's cache folder. Through the real CLI: a cached
 * answer is given only for exactly the input it was made from.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { berth, gitRepo, testdir } from './helpers/index.js'

describe('caches of read-only commands', () => {
  const { dir, cleanup } = testdir('berth-caches-')
  after(cleanup)
  const home = join(dir, 'home')
  const cache = join(dir, 'cache')
  mkdirSync(home)
  const run = (args: string[], cwd: string, env: NodeJS.ProcessEnv = {}) =>
    berth(args, { cwd, home, env: { XDG_CACHE_HOME: cache, ...env } })
  const writeConfig = (repo: string, url: unknown) =>
    writeFileSync(join(repo, 'berth.config.json'), JSON.stringify({ project: 'cached', url }))

  test('a config section is served from the cache only while its value is the one validated', async () => {
    const { repo } = await gitRepo(dir, 'cached')
    writeConfig(repo, { default: 'http://localhost:8100' })
    for (let i = 0; i < 2; i++) {
      const result = await run(['url'], repo)
      assert.equal(result.code, 0, result.stderr)
      assert.equal(result.stdout.trim(), 'http://localhost:8100')
    }
    assert.equal(readdirSync(join(cache, 'berth', 'config')).length, 1, 'one entry for the config')

    writeConfig(repo, { default: 'http://localhost:8200' })
    assert.equal((await run(['url'], repo)).stdout.trim(), 'http://localhost:8200')

    writeConfig(repo, { default: 'not a url' })
    const bad = await run(['url'], repo)
    assert.equal(bad.code, 2, bad.stderr)
    assert.match(bad.stderr, /url\.default/)

    writeConfig(repo, { default: 'http://localhost:8100' })
    assert.equal((await run(['url'], repo)).stdout.trim(), 'http://localhost:8100')
  })

  test('BERTH_CONFIG_CACHE=0 and BERTH_MODEL_CACHE=0 keep nothing', async () => {
    const { repo } = await gitRepo(join(dir, 'off'), 'off')
    writeFileSync(
      join(repo, 'berth.config.json'),
      JSON.stringify({ project: 'off', compose: { files: ['compose.yaml'] }, ports: { OFF_PORT: { base: 47100 } } }),
    )
    writeFileSync(join(repo, 'compose.yaml'), 'services:\n  app:\n    image: app\n    ports: ["9999:80"]\n')
    const offCache = join(dir, 'off-cache')
    const result = await run(['sandbox', 'slots'], repo, {
      XDG_CACHE_HOME: offCache,
      BERTH_CONFIG_CACHE: '0',
      BERTH_MODEL_CACHE: '0',
    })
    assert.equal(result.code, 0, result.stderr)
    assert.equal(existsSync(join(offCache, 'berth', 'config')), false)
    assert.equal(existsSync(join(offCache, 'berth', 'compose-models')), false)
    const cached = await run(['sandbox', 'slots'], repo, { XDG_CACHE_HOME: offCache })
    assert.equal(cached.code, 0, cached.stderr)
    assert.deepEqual(cached.stdout, result.stdout, 'the same table from the caches')
    assert.equal(readdirSync(join(offCache, 'berth', 'compose-models')).length, 1)
  })
})
