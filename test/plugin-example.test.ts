/**
 * The example plugin (examples/plugins/seed) added to a scratch repository from its config, as
 * docs/plugins.md says: a pipeline insert after gate.wait, a real stack on the engine, the real CLI.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import { berth, git, gitRepo, REPO_ROOT, testdir, writeConfig } from './helpers/index.js'

const SEED_PLUGIN = join(REPO_ROOT, 'examples/plugins/seed/src/index.ts')
const block = 52000 + Math.floor(Math.random() * 40) * 100

/** A stack nobody wrote for berth: busybox httpd whose CGI script keeps what is POSTed to it. */
const ITEMS_CGI = `#!/bin/busybox sh
printf 'Content-Type: application/json\\r\\n\\r\\n'
if [ "$REQUEST_METHOD" = "POST" ]; then
  /bin/busybox head -c "$CONTENT_LENGTH" >> /data/items.jsonl
  echo "" >> /data/items.jsonl
  echo '{"ok":true}'
else
  echo "{\\"count\\": $(/bin/busybox cat /data/items.jsonl 2>/dev/null | /bin/busybox wc -l)}"
fi
`

describe('the example seed plugin, added from a repository config', () => {
  const { dir, cleanup } = testdir('berth-plugin-example-')
  const home = join(dir, 'home')
  let repo = ''

  before(async () => {
    const image = await ensureBusyboxTestImage()
    repo = (
      await gitRepo(dir, 'shop', {
        'compose.yaml': [
          'services:',
          '  api:',
          `    image: ${image}`,
          '    command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
          '    volumes: ["./www:/www:ro"]',
          '    tmpfs: ["/data"]',
          '    ports: ["127.0.0.1:${SHOP_API_PORT}:8080"]',
          '',
        ].join('\n'),
        'www/index.html': 'ok\n',
        'www/cgi-bin/items': ITEMS_CGI,
      })
    ).repo
    chmodSync(join(repo, 'www/cgi-bin/items'), 0o755)
    writeConfig(repo, {
      compose: { files: ['compose.yaml'] },
      ports: { SHOP_API_PORT: { base: block } },
      slots: { pool: [1, 2] },
      gate: { timeout: 30, checks: [{ name: 'api', http: 'http://127.0.0.1:${SHOP_API_PORT}/', service: 'api' }] },
      plugins: [SEED_PLUGIN],
      pipelines: { 'stack.up': { insert: [{ step: 'seed.load', after: 'gate.wait' }] } },
      seed: {
        url: 'http://127.0.0.1:${SHOP_API_PORT}/cgi-bin/items',
        items: [{ sku: 'a' }, { sku: 'b' }, { sku: 'c' }],
      },
    })
    await git(repo, 'add', '-A')
    await git(repo, 'update-index', '--chmod=+x', 'www/cgi-bin/items')
    await git(repo, 'commit', '-q', '-m', 'berth config with the seed plugin')
    await git(repo, 'push', '-q')
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
