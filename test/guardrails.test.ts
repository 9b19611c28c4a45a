/**
 * Guardrails and input validation through the real CLI (issue 15): compose files judged as
 * compose will resolve them (a `${VAR:-default}` volume name, a host-root bind written `/.`, the
 * docker socket) stop `impl` with exit 2 naming file:line before anything is created, unless the
 * config allows them by name; bad flags exit 2 before the first step; `--cwd` stands for the
 * working folder everywhere; BERTH_HOME and `registry.json` oddities get clear answers.
 */
import assert from 'node:assert/strict'
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { countProjectObjects, engine, lineOf, removeProject } from './helpers/demo.js'
import { berth, git, testdir } from './helpers/index.js'
import { expectExit, ourProjects, registryBytes, registryIds, relRepo, smallCompose } from './reliability-fixtures.js'

const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }

after(
  async () => {
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 60_000 },
)

async function branches(repo: string): Promise<string[]> {
  return (await git(repo, 'branch', '--format=%(refname:short)')).split('\n').filter(Boolean).sort()
}

/** The small stack with a shared volume name and a dangerous bind added to db. */
function hazardousCompose(shared: string, mount: string): string {
  return smallCompose()
    .replace('      - dbdata:/var/lib/postgresql/data\n', `      - dbdata:/var/lib/postgresql/data\n      - ${mount}\n`)
    .replace('volumes:\n  dbdata:\n', `volumes:\n  dbdata:\n    name: \${SHARED_VOL:-${shared}}\n`)
}

describe('guardrails and validation before anything is created', { concurrency: true }, () => {
  for (const [label, mount] of [
    ['host root written /.', '/.:/host:ro'],
    ['docker socket', '/var/run/docker.sock:/var/run/docker.sock'],
  ] as const) {
    test(`a volume named \${SHARED:-fixed} and a bind of the ${label}: impl exits 2 naming file:line, nothing is created; allowed by name it starts`, {
      timeout: 240_000,
    }, async (t) => {
      const slug = label.startsWith('host') ? 'root' : 'sock'
      const rel = await relRepo(`guard-${slug}`)
      t.after(() => rel.cleanup())
      const shared = `${rel.project}-shared`
      const text = hazardousCompose(shared, mount)
      writeFileSync(join(rel.repo, 'compose.small.yaml'), text)
      // With rendering on, the fixed volume name would be made per-instance: this team runs its
      // compose file as it is, so lint guards the name too (the mount is refused either way).
      const own = JSON.parse(readFileSync(join(rel.repo, 'berth.config.json'), 'utf8'))
      own.compose = { ...own.compose, render: { enabled: false } }
      writeFileSync(join(rel.repo, 'berth.config.json'), JSON.stringify(own, null, 2))
      await git(rel.repo, 'commit', '-qam', 'a shared volume and a dangerous bind, rendering off')
      await git(rel.repo, 'push', '-q', 'origin', 'main')
      const before = await branches(rel.repo)

      const impl = expectExit(await rel.run(['impl', 'x']), 2, `impl x with ${label}`)
      assert.ok(impl.stderr.includes(`compose.small.yaml:${lineOf(text, 'name: ${SHARED_VOL')}`), impl.stderr)
      assert.ok(impl.stderr.includes(`compose.small.yaml:${lineOf(text, mount)}`), impl.stderr)
      assert.match(impl.stderr, new RegExp(`name: "${shared}"`))
      assert.equal(existsSync(rel.tree('x')), false, 'no worktree')
      assert.deepEqual(await branches(rel.repo), before, 'no branch')
      assert.deepEqual(registryIds(rel.home), [], 'no claim')
      assert.deepEqual(await countProjectObjects(rel.id('x')), NO_OBJECTS, 'nothing in Docker')
      await assert.rejects(engine(`/volumes/${shared}`), 'no shared volume')

      // Allowed by name in the config: the same files start.
      const config = JSON.parse(readFileSync(join(rel.repo, 'berth.config.json'), 'utf8'))
      const allowed = mount.split(':')[0] as string
      config.compose.lint = { allowShared: ['dbdata'], allowMounts: [allowed] }
      // a unique shared name, so that the volume this instance makes is ours to remove
      writeFileSync(join(rel.repo, 'berth.config.json'), JSON.stringify(config, null, 2))
      await git(rel.repo, 'commit', '-qam', 'allow them by name')
      await git(rel.repo, 'push', '-q', 'origin', 'main')
      const started = await rel.run(['impl', 'y', '--no-wait'])
      t.after(() => engine(`/volumes/${shared}`, 'DELETE').catch(() => undefined))
      expectExit(started, 0, 'impl y with the hazards allowed by name')
      expectExit(await rel.run(['done', 'y', '--force']), 0, 'done y')
    })
  }

  test('impl x --timeout abc exits 2 before anything is created; so do --tail and --service', {
    timeout: 120_000,
  }, async (t) => {
    const rel = await relRepo('flags')
    t.after(() => rel.cleanup())
    const before = await branches(rel.repo)
    const impl = expectExit(await rel.run(['impl', 'x', '--timeout', 'abc']), 2, 'impl --timeout abc')
    assert.match(impl.stderr, /--timeout "abc": must be a positive number of seconds/)
    assert.doesNotMatch(impl.stderr, /registry\.claim|worktree\.create/, 'no step ran')
    assert.equal(existsSync(rel.tree('x')), false)
    assert.deepEqual(await branches(rel.repo), before)
    assert.equal(registryBytes(rel.home), null, 'BERTH_HOME holds no registry')
    for (const args of [
      ['sandbox', 'up', '--timeout', '0'],
      ['gate', '--timeout', '-1'],
    ]) {
      expectExit(await rel.run(args), 2, args.join(' '))
    }
    expectExit(await rel.run(['impl', 'a', '--no-up']), 0, 'impl a --no-up')
    const registry = registryBytes(rel.home)
    for (const args of [
      ['sandbox', 'logs', '--tail', 'many'],
      ['sandbox', 'logs', '--follow', '--json'],
      ['test', 'e2e', '--service', 'a b'],
      ['sandbox', 'up', '--timeout', 'soon'],
    ]) {
      const result = expectExit(await rel.run(args, { cwd: rel.tree('a') }), 2, args.join(' '))
      assert.doesNotMatch(result.stderr, /✔/, `${args.join(' ')}: no step ran`)
    }
    assert.deepEqual(registryBytes(rel.home), registry, 'the registry is byte-identical')
    assert.deepEqual(await countProjectObjects(rel.id('a')), NO_OBJECTS)
  })

  test('berth --cwd DIR config show names the project after DIR, from any working folder', async () => {
    const { dir, cleanup } = testdir('berth-cwd-')
    try {
      const target = join(dir, 'Acme Shop')
      mkdirSync(target)
      const home = join(dir, 'home')
      const shown = expectExit(
        await berth(['--cwd', target, 'config', 'show', '--json'], { cwd: dir, home }),
        0,
        'config show --cwd',
      )
      assert.equal(shown.json.config.project, 'acme-shop')
      assert.equal(shown.json.config.root, target)
      const human = expectExit(await berth(['config', 'show', '--cwd', target], { cwd: '/', home }), 0, 'human')
      assert.match(human.stdout, /acme-shop/)
    } finally {
      cleanup()
    }
  })

  test('a BERTH_HOME that is a file exits 2 naming it, with a hint that works', async () => {
    const { dir, cleanup } = testdir('berth-home-file-')
    try {
      const home = join(dir, 'home-file')
      writeFileSync(home, 'not a folder\n')
      for (const args of [['sandbox', 'list'], ['doctor'], ['impl', 'x']]) {
        const result = expectExit(await berth(args, { cwd: dir, home }), 2, `${args.join(' ')} with BERTH_HOME a file`)
        assert.match(result.stderr, new RegExp(`BERTH_HOME ${home} is a file, not a folder`))
        assert.match(result.stderr, /hint: .*BERTH_HOME/)
        assert.doesNotMatch(result.stderr, /EEXIST|ENOTDIR/)
      }
      const below = join(home, 'sub')
      const result = expectExit(
        await berth(['sandbox', 'list'], { cwd: dir, home: below }),
        2,
        'BERTH_HOME below a file',
      )
      assert.match(result.stderr, /is a file, not a folder/)
      assert.equal(readFileSync(home, 'utf8'), 'not a folder\n')
    } finally {
      cleanup()
    }
  })

  test('a registry.json that is a symlink stays a symlink: berth writes the file it points to', {
    timeout: 60_000,
  }, async (t) => {
    const rel = await relRepo('symlink')
    t.after(() => rel.cleanup())
    mkdirSync(rel.home, { recursive: true, mode: 0o700 })
    const real = join(rel.dir, 'synced', 'registry.json')
    mkdirSync(join(rel.dir, 'synced'))
    writeFileSync(real, '{"version":1,"instances":[]}\n', { mode: 0o600 })
    symlinkSync(real, join(rel.home, 'registry.json'))
    expectExit(await rel.run(['impl', 'a', '--no-up']), 0, 'impl a --no-up')
    assert.ok(lstatSync(join(rel.home, 'registry.json')).isSymbolicLink(), 'still a symlink')
    assert.equal(readlinkSync(join(rel.home, 'registry.json')), real)
    assert.deepEqual(
      JSON.parse(readFileSync(real, 'utf8')).instances.map((r: { id: string }) => r.id),
      [rel.id('a')],
    )
    expectExit(await rel.run(['done', 'a']), 0, 'done a')
    assert.deepEqual(JSON.parse(readFileSync(real, 'utf8')).instances, [])
    assert.ok(lstatSync(join(rel.home, 'registry.json')).isSymbolicLink())
  })
})
