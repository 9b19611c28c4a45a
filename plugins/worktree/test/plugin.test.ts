import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { pluginKey } from '@berth/contract'
import { resolveParent, WORKTREE_PLUGIN_VERSION, worktreeConfigSchema, worktreePlugin } from '../src/index.js'

describe('worktreePlugin', () => {
  test('is a plain object named berth:worktree with its steps and config section', () => {
    const plugin = worktreePlugin()
    assert.equal(plugin.name, 'berth:worktree')
    assert.equal(pluginKey(plugin), 'worktree')
    assert.deepEqual(Object.keys(plugin.steps).sort(), ['check', 'create', 'list', 'plan', 'remove'])
    assert.deepEqual(Object.keys(plugin.config ?? {}), ['worktree'])
    assert.equal(typeof plugin.steps.create?.undo, 'function')
    for (const step of Object.values(plugin.steps)) assert.ok(step.description)
  })

  test('declares the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.equal(WORKTREE_PLUGIN_VERSION, pkg.version)
    assert.equal(worktreePlugin().version, pkg.version)
  })
})

describe('worktreeConfigSchema', () => {
  test('fills remote and fetch when the section is missing or empty', () => {
    assert.deepEqual(worktreeConfigSchema.parse(undefined), {
      remote: 'origin',
      fetch: true,
      fetchMaxAge: 0,
      copy: ['.env'],
    })
    assert.deepEqual(worktreeConfigSchema.parse({ parent: '../trees', baseBranch: 'develop', fetch: false }), {
      parent: '../trees',
      baseBranch: 'develop',
      remote: 'origin',
      fetch: false,
      fetchMaxAge: 0,
      copy: ['.env'],
    })
  })

  test('reports every problem with its path', () => {
    const result = worktreeConfigSchema.safeParse({
      parent: '',
      baseBranch: '--upload-pack=x',
      remote: 'a b',
      copy: ['../secrets.env', '.env\nx'],
      extra: 1,
    })
    assert.equal(result.success, false)
    const paths = result.error?.issues.map((issue) => issue.path.join('.') || issue.code).sort()
    assert.deepEqual(paths, ['baseBranch', 'copy.0', 'copy.1', 'parent', 'remote', 'unrecognized_keys'])
  })

  test('resolves parent against the config root, ~ against home, and defaults to the folder of the main checkout', () => {
    assert.equal(resolveParent(undefined, '/cfg', '/dev/acme'), '/dev')
    assert.equal(resolveParent('../trees', '/dev/acme', '/dev/acme'), '/dev/trees')
    assert.equal(resolveParent('/abs/trees/', '/cfg', '/dev/acme'), '/abs/trees')
    assert.match(resolveParent('~/trees', '/cfg', '/dev/acme'), /\/trees$/)
  })
})
