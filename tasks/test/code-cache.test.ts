import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'

const require = createRequire(import.meta.url)
const loader = require.resolve('../bin/code-cache.cjs')
const { commandKey } = require('../bin/code-cache.cjs') as { commandKey: (argv: string[]) => string }
const dir = mkdtempSync(join(tmpdir(), 'berth-code-cache-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Runs `bundle` through the loader in a new process, as the bin does, and returns what it printed. */
function run(bundle: string, env: Record<string, string> = {}): string {
  const script = `require(${JSON.stringify(loader)}).loadBundle(${JSON.stringify(bundle)}, ['url'], (s) => import(s)).main().then((text) => process.stdout.write(text))`
  return execFileSync(process.execPath, ['-e', script], {
    env: { ...process.env, XDG_CACHE_HOME: join(dir, 'user-cache'), ...env },
  }).toString()
}

const bundleSource = (word: string) =>
  `exports.main = async () => { const { basename } = await globalThis.__berthImport('node:path'); return ${JSON.stringify(word)} + ':' + basename('/a/b') }\n`

describe('the bin code cache (tasks/bin/code-cache.cjs)', () => {
  test('writes one cache per command and runs from it, import() included', () => {
    const bundle = join(dir, 'one', 'bundle.cjs')
    execFileSync('mkdir', ['-p', join(dir, 'one')])
    writeFileSync(bundle, bundleSource('first'))
    assert.equal(run(bundle), 'first:b')
    const caches = readdirSync(join(dir, 'one', '.v8-cache'))
    assert.equal(caches.length, 1)
    assert.match(caches[0]!, /^url\./)
    assert.equal(run(bundle), 'first:b', 'the second run (from the cache) still imports')
  })

  test('never runs an old cache for a changed bundle of the same length, nor a corrupt one', () => {
    const bundle = join(dir, 'two', 'bundle.cjs')
    execFileSync('mkdir', ['-p', join(dir, 'two')])
    writeFileSync(bundle, bundleSource('aaaaa'))
    assert.equal(run(bundle), 'aaaaa:b')
    writeFileSync(bundle, bundleSource('bbbbb'))
    assert.equal(run(bundle), 'bbbbb:b')
    const cacheDir = join(dir, 'two', '.v8-cache')
    assert.equal(readdirSync(cacheDir).length, 1, 'the old build cache is removed')
    for (const name of readdirSync(cacheDir)) writeFileSync(join(cacheDir, name), 'not a cache')
    assert.equal(run(bundle), 'bbbbb:b')
    assert.equal(run(bundle, { BERTH_CODE_CACHE: '0' }), 'bbbbb:b')
  })

  test('names caches by command, never by a feature name', () => {
    assert.equal(commandKey(['url']), 'url')
    assert.equal(commandKey(['sandbox', 'list', '--json']), 'sandbox-list')
    assert.equal(commandKey(['impl', 'my-feature', '--no-up']), 'impl')
    assert.equal(commandKey(['--version']), 'other')
  })
})
