import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { pluginKey } from '@berth/contract'
import { BUILTIN_KEYS, builtinManifest, builtinPlugins, describePlugin } from '../src/builtin-plugins.js'
import { DEFAULT_PIPELINES } from '../src/pipelines.js'

describe('the built-in plugin manifest', () => {
  test('names every built-in plugin with the steps, sections and services it has (else: pnpm --filter berth manifest)', async () => {
    const plugins = await builtinPlugins()
    assert.deepEqual(plugins.map(pluginKey), BUILTIN_KEYS)
    for (const plugin of plugins) {
      assert.deepEqual(builtinManifest[pluginKey(plugin)], await describePlugin(plugin), pluginKey(plugin))
    }
  })

  test('every read-only step of a default pipeline that declares uses names services some built-in offers', async () => {
    const offered = new Set(Object.values(builtinManifest).flatMap((m) => m.services))
    const plugins = new Map((await builtinPlugins()).map((p) => [pluginKey(p), p]))
    for (const refs of Object.values(DEFAULT_PIPELINES)) {
      for (const ref of refs.filter((r) => !r.startsWith('@'))) {
        const [key, name] = ref.split('.') as [string, string]
        for (const service of plugins.get(key)?.steps[name]?.uses ?? []) {
          assert.ok(offered.has(service), `${ref} uses ${service}, which no built-in offers`)
        }
      }
    }
  })
})
