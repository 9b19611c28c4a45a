import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { Redactor } from '@berth/contract'
import { BundleWriter } from '../src/index.js'
import { tempDir } from './helpers.js'

describe('bundle writer', () => {
  const root = tempDir()
  after(() => rmSync(root, { recursive: true, force: true }))
  const redactor = new Redactor()
  redactor.add('hunter2-secret')

  test('text and JSON pass through the redactor, and size and sha256 describe what is on disk', async () => {
    const writer = new BundleWriter(join(root, 'b1'), redactor)
    await writer.writeText('logs/api.log', 'password=hunter2-secret\n')
    await writer.writeJson('config.json', { nested: { value: 'x hunter2-secret y' } })
    for (const file of writer.files) {
      const bytes = readFileSync(join(root, 'b1', file.path))
      assert.ok(!bytes.includes('hunter2-secret'), file.path)
      assert.equal(file.size, bytes.length)
      assert.equal(file.sha256, createHash('sha256').update(bytes).digest('hex'))
    }
    assert.equal(readFileSync(join(root, 'b1', 'logs/api.log'), 'utf8'), 'password=***\n')
  })

  test('copied trees keep their layout; binary files are copied unless they hold a secret; symlinks are skipped', async () => {
    const source = join(root, 'artifacts')
    mkdirSync(join(source, 'screens'), { recursive: true })
    writeFileSync(join(source, 'results.json'), '{"token":"hunter2-secret"}\n')
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3, 0xff])
    writeFileSync(join(source, 'screens', 'home.png'), png)
    writeFileSync(
      join(source, 'screens', 'leak.bin'),
      Buffer.concat([Buffer.from([0, 0xff]), Buffer.from('hunter2-secret')]),
    )
    writeFileSync(join(root, 'outside.txt'), 'outside\n')
    symlinkSync(join(root, 'outside.txt'), join(source, 'link.txt'))
    const writer = new BundleWriter(join(root, 'b2'), redactor)
    assert.equal(await writer.copyTree(source, 'e2e'), 2)
    assert.deepEqual(writer.files.map((f) => f.path).sort(), ['e2e/results.json', 'e2e/screens/home.png'])
    assert.equal(readFileSync(join(root, 'b2', 'e2e/results.json'), 'utf8'), '{"token":"***"}\n')
    assert.ok(readFileSync(join(root, 'b2', 'e2e/screens/home.png')).equals(png))
    assert.match(writer.problems.join('\n'), /leak\.bin: binary file containing a secret value, withheld/)
  })
})
