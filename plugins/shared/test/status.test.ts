import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { formatEnvFile } from '@berth/contract'
import { runStep } from '@berth/contract/testing'
import { formatBytes, type SharedStatusReport, sharedDataSchema, sharedEnv, sharedPlugin } from '../src/index.js'
import { makeContext, makeInstance, tempDir, writeTree } from './helpers.js'

describe('shared status', () => {
  const root = tempDir()
  after(() => rmSync(root, { recursive: true, force: true }))

  test('shows each folder’s size and file count and the instances whose .env.sandbox mounts it', async () => {
    const home = join(root, 'home')
    const sharedData = sharedDataSchema.parse({ dirs: { data: 'KTRDR_DATA_DIR', models: 'KTRDR_MODELS_DIR' } })
    writeTree(join(home, 'shared'), { 'data/a.csv': '12345', 'data/deep/b.csv': '678' })
    const instances = ['app-impl-a', 'app-impl-b', 'app-old', 'app-spec-x', 'app-gone'].map((id) =>
      makeInstance(id, join(root, id), id.includes('spec') ? null : 1),
    )
    for (const id of ['app-impl-a', 'app-impl-b', 'app-old', 'app-spec-x']) mkdirSync(join(root, id))
    const env = sharedEnv(home, sharedData)
    writeFileSync(join(root, 'app-impl-a', '.env.sandbox'), formatEnvFile({ INSTANCE_ID: 'app-impl-a', ...env }))
    writeFileSync(join(root, 'app-impl-b', '.env.sandbox'), formatEnvFile({ INSTANCE_ID: 'app-impl-b', ...env }))
    // Written before sharedData was configured.
    writeFileSync(join(root, 'app-old', '.env.sandbox'), formatEnvFile({ INSTANCE_ID: 'app-old' }))
    const ctx = makeContext({ root, home, sharedData, services: { listInstances: async () => instances } })
    await runStep(sharedPlugin().steps.status, ctx)
    const report = ctx.output.shared as SharedStatusReport
    assert.equal(report.root, join(home, 'shared'))
    assert.deepEqual(report.dirs, [
      {
        name: 'data',
        env: 'KTRDR_DATA_DIR',
        path: join(home, 'shared', 'data'),
        exists: true,
        bytes: 8,
        files: 2,
        instances: ['app-impl-a', 'app-impl-b'],
      },
      {
        name: 'models',
        env: 'KTRDR_MODELS_DIR',
        path: join(home, 'shared', 'models'),
        exists: false,
        bytes: 0,
        files: 0,
        instances: ['app-impl-a', 'app-impl-b'],
      },
    ])
    assert.deepEqual(report.outdated, [{ id: 'app-old', missing: ['KTRDR_DATA_DIR', 'KTRDR_MODELS_DIR'] }])
    assert.match(ctx.logs.join('\n'), /app-old: \.env\.sandbox lacks KTRDR_DATA_DIR/)
  })

  test('with nothing configured it says so', async () => {
    const ctx = makeContext({ root, home: join(root, 'empty-home') })
    await runStep(sharedPlugin().steps.status, ctx)
    assert.deepEqual((ctx.output.shared as SharedStatusReport).dirs, [])
    assert.match(ctx.logs.join('\n'), /no shared folders are configured/)
  })

  test('sizes are shown in decimal units', () => {
    assert.deepEqual(
      [formatBytes(12), formatBytes(340_000), formatBytes(1_234_567_890)],
      ['12 B', '340.0 kB', '1.2 GB'],
    )
  })
})
