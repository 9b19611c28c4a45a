/**
 * The example plugin (examples/plugins/seed) added to a scratch repository from its config, as
 * docs/plugins.md says: a pipeline insert after gate.wait, a real stack on the engine, the real CLI.
 */
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { berth, REPO_ROOT, testdir } from './helpers/index.js'
import { itemsPortBlock, itemsStackRepo } from './helpers/items-stack.js'

const SEED_PLUGIN = join(REPO_ROOT, 'examples/plugins/seed/src/index.ts')
const block = itemsPortBlock()

describe('the example seed plugin, added from a repository config', () => {
  const { dir, cleanup } = testdir('berth-plugin-example-')
  const home = join(dir, 'home')
  let repo = ''

  before(async () => {
    repo = await itemsStackRepo(dir, 'shop', block, {
      plugins: [SEED_PLUGIN],
      pipelines: { 'stack.up': { insert: [{ step: 'seed.load', after: 'gate.wait' }] } },
      seed: {
        url: 'http://127.0.0.1:${SHOP_API_PORT}/cgi-bin/items',
        items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }],
      },
    })
    mkdirSync(home)
  })

  after(async () => {
    await berth(['done', 'a', '--force'], { cwd: repo, home }).catch(() => undefined)
    await berth(['done', 'b', '--force'], { cwd: repo, home }).catch(() => undefined)
    cleanup()
  })

  test("berth impl --help lists the plugin's flags, naming the step that reads them", async () => {
    const help = await berth(['impl', '--help'], { cwd: repo, home })
    assert.equal(help.code, 0, help.stderr)
    assert.match(help.stdout, /--seed-limit N\s+insert at most N of the configured seed items \(seed\.load\)/)
    assert.match(help.stdout, /--no-seed\s+do not seed the stack \(seed\.load\)/)
  })

  test('impl runs seed.load after the gate: its output is in --json under its key, and the stack has the items', async () => {
    const result = await berth(['impl', 'a', '--json', '--seed-limit', '2'], { cwd: repo, home, timeoutMs: 180_000 })
    assert.equal(result.code, 0, result.stderr)
    const port = Number(result.json.env.SHOP_API_PORT)
    assert.deepEqual(result.json.seed, { url: `http://127.0.0.1:${port}/cgi-bin/items`, inserted: 2, skipped: 1 })
    assert.ok(result.stderr.indexOf('gate.wait') < result.stderr.indexOf('seed.load'), 'seed.load runs after gate.wait')
    const count = (await (await fetch(`http://127.0.0.1:${port}/cgi-bin/items`)).json()) as { count: number }
    assert.equal(count.count, 2)
  })

  test("impl's human output carries the plugin's line; a bad flag value exits 2 before anything is made", async () => {
    const bad = await berth(['impl', 'b', '--seed-limit', 'two'], { cwd: repo, home })
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--seed-limit "two": must be a whole number/)
    assert.doesNotMatch(bad.stderr, /registry\.claim|worktree\.create/)
    const human = await berth(['impl', 'b'], { cwd: repo, home, timeoutMs: 180_000 })
    assert.equal(human.code, 0, human.stderr)
    assert.match(human.stdout, /seeded 3 item\(s\) into http:\/\/127\.0\.0\.1:\d+\/cgi-bin\/items/)
  })
})
