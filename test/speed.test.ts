/**
 * Read-only commands load only what they read (issue 16): a section a command's steps never read
 * is not validated by it, while `config show` and every command that changes something still
 * validate the whole file first.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { berth, gitRepo, testdir, writeConfig } from './helpers/index.js'

describe('read-only commands validate only the sections they read', { concurrency: true }, () => {
  test('a bad gate section: url and sandbox slots answer; sandbox init and config show exit 2 naming it, nothing is written', async () => {
    const { dir, cleanup } = testdir('berth-speed-lazy-')
    try {
      const { repo } = await gitRepo(dir, 'lazyapp')
      writeConfig(repo, {
        project: 'lazyapp',
        ports: { LAZY_API_PORT: { base: 31200 } },
        gate: { timeout: 'soon', checks: [] },
      })
      const home = join(dir, 'home')
      const url = await berth(['url'], { cwd: repo, home })
      assert.equal(url.code, 0, url.stderr)
      assert.match(url.stdout, /^http:\/\/localhost:\d+/)
      const slots = await berth(['sandbox', 'slots', '--json'], { cwd: repo, home })
      assert.equal(slots.code, 0, slots.stderr)
      const list = await berth(['sandbox', 'list', '--json'], { cwd: repo, home })
      assert.equal(list.code, 0, list.stderr)
      assert.deepEqual(list.json.instances, [])

      for (const args of [
        ['sandbox', 'init'],
        ['config', 'show'],
      ]) {
        const result = await berth(args, { cwd: repo, home })
        assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`)
        assert.match(result.stderr, /gate\.timeout/, args.join(' '))
      }
      assert.ok(!existsSync(join(repo, '.env.sandbox')), 'sandbox init wrote no .env.sandbox')
      assert.ok(
        !existsSync(join(home, 'registry.json')) || !readdirSync(home).includes('registry.json'),
        'no instance was registered',
      )
    } finally {
      cleanup()
    }
  })

  test('a bad section a read-only command reads stops it with exit 2 naming the path', async () => {
    const { dir, cleanup } = testdir('berth-speed-read-')
    try {
      const { repo } = await gitRepo(dir, 'readapp')
      writeConfig(repo, { project: 'readapp', ports: { LAZY_API_PORT: { base: 'high' } } })
      const home = join(dir, 'home')
      const slots = await berth(['sandbox', 'slots'], { cwd: repo, home })
      assert.equal(slots.code, 2, slots.stderr)
      assert.match(slots.stderr, /ports\.LAZY_API_PORT\.base/)
    } finally {
      cleanup()
    }
  })

  test('a typo in a top-level key stops a read-only command too', async () => {
    const { dir, cleanup } = testdir('berth-speed-typo-')
    try {
      const { repo } = await gitRepo(dir, 'typoapp')
      writeConfig(repo, { project: 'typoapp', ports: { LAZY_API_PORT: { base: 31300 } }, gatee: {} })
      const url = await berth(['url'], { cwd: repo, home: join(dir, 'home') })
      assert.equal(url.code, 2, url.stderr)
      assert.match(url.stderr, /gatee: unknown key/)
    } finally {
      cleanup()
    }
  })
})
