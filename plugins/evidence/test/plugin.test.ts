import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { AUTOMATIC_TASKS, EVIDENCE_VERSION, evidenceConfigSchema, evidencePlugin } from '../src/index.js'

describe('the evidence plugin', () => {
  test('is named berth:evidence, owns the evidence section and matches its package version', () => {
    const plugin = evidencePlugin()
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.equal(plugin.name, 'berth:evidence')
    assert.equal(plugin.version, pkg.version)
    assert.equal(EVIDENCE_VERSION, pkg.version)
    assert.deepEqual(Object.keys(plugin.config ?? {}), ['evidence'])
    assert.deepEqual(Object.keys(plugin.steps), ['collect'])
    assert.equal(plugin.steps.collect.effect, 'write')
    assert.equal(typeof plugin.finalize, 'function')
  })

  test('the section defaults to .sandbox/evidence, 200 log lines and 20 bundles', () => {
    assert.deepEqual(evidenceConfigSchema.parse(undefined), { dir: '.sandbox/evidence', logTail: 200, keep: 20 })
  })

  test('folders outside the instance, zero bundles and unknown keys are refused with their path', () => {
    for (const [input, path] of [
      [{ dir: '../elsewhere' }, 'dir'],
      [{ dir: '/var/evidence' }, 'dir'],
      [{ keep: 0 }, 'keep'],
      [{ logTail: 1.5 }, 'logTail'],
      [{ logtail: 10 }, ''],
    ] as const) {
      const result = evidenceConfigSchema.safeParse(input)
      assert.equal(result.success, false, JSON.stringify(input))
      assert.equal(result.error?.issues[0]?.path.join('.'), path, JSON.stringify(input))
    }
  })

  test('bundles are written automatically after up, impl, gate and test e2e', () => {
    assert.deepEqual([...AUTOMATIC_TASKS], ['sandbox.up', 'local-prod.up', 'impl', 'gate', 'test.e2e'])
  })
})
