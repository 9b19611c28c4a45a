/**
 * The worktree lifecycle through the real `berth` CLI: impl/spec/done/worktrees, sandbox destroy,
 * local-prod init/destroy, a failing pipeline's rollback and name validation. Every test gets its
 * own temp folder (bare origin + clone) and its own BERTH_HOME. `impl` runs with `--no-up`, so
 * no containers start; `done`/`destroy` still run `compose.destroy` against the real engine.
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { describe, test } from 'node:test'
import { promisify } from 'node:util'
import { type BerthResult, berth, git, gitRepo, testdir } from './helpers/index.js'

const execFileAsync = promisify(execFile)

/**
 * Ports of this file: 36400-36659. Each test gets its own block of 20 (slot N -> base + N, slot 0
 * included for local-prod), because claiming a slot probes its ports by binding them briefly and
 * the tests run two at a time.
 */
const PORT_RANGE_START = 36400
let nextPortBase = PORT_RANGE_START

const COMPOSE_YAML = `services:
  api:
    image: berth-compose-test-busybox:local
    ports:
      - "127.0.0.1:\${API_PORT}:8080"
`

const BOOM_PLUGIN = `export default {
  name: 'test:boom',
  version: '0.0.0',
  steps: { fail: { run() { throw new Error('boom') } } },
}
`

interface Project {
  /** The temp folder holding origin.git, the clone, its worktrees and BERTH_HOME. */
  dir: string
  home: string
  /** The main clone. */
  repo: string
  origin: string
  /** `project` in the config; also the clone's folder name, so instance ids are unique. */
  name: string
  /** `API_PORT` of slot 0; slot N has apiBase + N. */
  apiBase: number
  run(args: string[], cwd?: string): Promise<BerthResult>
  /** `<dir>/<project>-<kind>-<feature>`. */
  tree(kind: 'impl' | 'spec', feature: string): string
}

/** A repository with a committed berth config (project, ports, compose, gate) and compose.yaml. */
async function project(t: TestContext, extra: Record<string, unknown> = {}, files: Record<string, string> = {}) {
  const { dir, cleanup } = testdir('berth-lifecycle-')
  t.after(cleanup)
  const name = `lc-${randomBytes(3).toString('hex')}`
  const apiBase = nextPortBase
  nextPortBase += 20
  const config = {
    project: name,
    ports: { API_PORT: { base: apiBase } },
    compose: { files: ['compose.yaml'] },
    gate: { checks: [] },
    ...extra,
  }
  const { repo, origin } = await gitRepo(dir, name, {
    'berth.config.json': `${JSON.stringify(config, null, 2)}\n`,
    'compose.yaml': COMPOSE_YAML,
    ...files,
  })
  const home = join(dir, 'home')
  const p: Project = {
    dir,
    home,
    repo,
    origin,
    name,
    apiBase,
    run: (args, cwd = repo) => berth(args, { cwd, home }),
    tree: (kind, feature) => join(dir, `${name}-${kind}-${feature}`),
  }
  return p
}

/** Runs berth and fails the test with its output unless it exits with `code`. */
async function expectExit(p: Project, code: number, args: string[], cwd?: string): Promise<BerthResult> {
  const result = await p.run(args, cwd)
  assert.equal(result.code, code, `berth ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`)
  return result
}

interface InstanceView {
  id: string
  kind: string
  slot: number | null
  path: string
  branch?: string
  createdByBerth: boolean
}

async function instances(p: Project): Promise<InstanceView[]> {
  const listed = await expectExit(p, 0, ['sandbox', 'list', '--json'])
  // Only the registered facts: the listing's state and age change from one call to the next.
  return (listed.json.instances as InstanceView[]).map(({ id, kind, slot, path, branch, createdByBerth }) => ({
    id,
    kind,
    slot,
    path,
    branch,
    createdByBerth,
  }))
}

async function slots(p: Project): Promise<{ slot: number; state: string; instance: string | null }[]> {
  return (await expectExit(p, 0, ['sandbox', 'slots', '--json'])).json.slots
}

function registryText(p: Project): string | null {
  const file = join(p.home, 'registry.json')
  return existsSync(file) ? readFileSync(file, 'utf8') : null
}

/** Everything a berth command could change: registry, worktrees, branches, folders next to the clone. */
async function snapshot(p: Project) {
  return {
    registry: registryText(p),
    worktrees: await git(p.repo, 'worktree', 'list', '--porcelain'),
    branches: await git(p.repo, 'branch', '-a'),
    folders: readdirSync(p.dir).sort(),
  }
}

async function branchExists(p: Project, branch: string): Promise<boolean> {
  const out = await git(p.repo, 'branch', '--list', branch)
  return out.trim().length > 0
}

// Two at a time: each test has its own folder, BERTH_HOME and ports, and most of the time is node start-up.
describe('the worktree lifecycle through the berth CLI', { concurrency: 2 }, () => {
  test('impl a and impl b make two clean worktrees on impl/a and impl/b with their own slots and .env.sandbox', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'a', '--no-up'])
    await expectExit(p, 0, ['impl', 'b', '--no-up'])

    const envs = ['a', 'b'].map((feature) => {
      const path = p.tree('impl', feature)
      assert.ok(existsSync(path), `${path} exists`)
      const text = readFileSync(join(path, '.env.sandbox'), 'utf8')
      return Object.fromEntries(
        text
          .split('\n')
          .filter((line) => line && !line.startsWith('#'))
          .map((line) => line.split('=', 2) as [string, string]),
      )
    })
    const [a, b] = envs as [Record<string, string>, Record<string, string>]
    assert.equal(a.INSTANCE_ID, `${p.name}-impl-a`)
    assert.equal(b.INSTANCE_ID, `${p.name}-impl-b`)
    assert.notEqual(a.SLOT_NUMBER, b.SLOT_NUMBER)
    assert.deepEqual([a.SLOT_NUMBER, b.SLOT_NUMBER].sort(), ['1', '2'])
    assert.equal(a.API_PORT, String(p.apiBase + Number(a.SLOT_NUMBER)))
    assert.equal(b.API_PORT, String(p.apiBase + Number(b.SLOT_NUMBER)))

    for (const feature of ['a', 'b']) {
      const path = p.tree('impl', feature)
      assert.equal((await git(path, 'rev-parse', '--abbrev-ref', 'HEAD')).trim(), `impl/${feature}`)
      assert.equal(await git(path, 'status', '--porcelain'), '', `.env.sandbox leaves ${path} clean`)
    }

    const listed = await expectExit(p, 0, ['worktrees', '--json'])
    const rows = listed.json.worktrees as { path: string; branch: string; slot: number | null; kind: string }[]
    const byPath = new Map(rows.map((row) => [row.path, row]))
    assert.equal(byPath.get(p.tree('impl', 'a'))?.branch, 'impl/a')
    assert.equal(byPath.get(p.tree('impl', 'a'))?.slot, Number(a.SLOT_NUMBER))
    assert.equal(byPath.get(p.tree('impl', 'b'))?.branch, 'impl/b')
    assert.equal(byPath.get(p.tree('impl', 'b'))?.slot, Number(b.SLOT_NUMBER))
  })

  test('done refuses uncommitted work with exit 3, lists the file and changes nothing; --force removes it and keeps the branch', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'a', '--no-up'])
    const tree = p.tree('impl', 'a')
    writeFileSync(join(tree, 'notes.txt'), 'unsaved\n')
    const before = await snapshot(p)

    const refused = await expectExit(p, 3, ['done', 'a'])
    assert.match(refused.stderr, /notes\.txt/)
    assert.match(refused.stderr, /--force/)
    assert.deepEqual(await snapshot(p), before)
    assert.equal(readFileSync(join(tree, 'notes.txt'), 'utf8'), 'unsaved\n')

    await expectExit(p, 0, ['done', 'a', '--force'])
    assert.equal(existsSync(tree), false, 'the folder is gone')
    assert.ok(await branchExists(p, 'impl/a'), 'the branch is kept')
    assert.equal(
      (await slots(p)).find((s) => s.instance === `${p.name}-impl-a`),
      undefined,
    )
    assert.ok((await slots(p)).filter((s) => s.slot === 1 || s.slot === 2).every((s) => s.state === 'free'))
    assert.deepEqual(await instances(p), [])
    assert.doesNotMatch(await git(p.repo, 'worktree', 'list', '--porcelain'), /impl-a/)
  })

  test('done refuses committed but unpushed work and succeeds once the branch is pushed', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'a', '--no-up'])
    const tree = p.tree('impl', 'a')
    writeFileSync(join(tree, 'feature.txt'), 'work\n')
    await git(tree, 'add', 'feature.txt')
    await git(tree, 'commit', '-q', '-m', 'add the feature')

    const refused = await expectExit(p, 3, ['done', 'a'])
    assert.match(refused.stderr, /add the feature/)
    assert.ok(existsSync(tree))

    await git(tree, 'push', '-q', '-u', 'origin', 'impl/a')
    await expectExit(p, 0, ['done', 'a'])
    assert.equal(existsSync(tree), false)
    assert.ok(await branchExists(p, 'impl/a'))
    assert.deepEqual(await instances(p), [])
    assert.ok((await slots(p)).every((s) => s.state === 'free'))
  })

  test('done accepts a branch with no upstream whose commits are merged into main', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'a', '--no-up'])
    const tree = p.tree('impl', 'a')
    writeFileSync(join(tree, 'feature.txt'), 'work\n')
    await git(tree, 'add', 'feature.txt')
    await git(tree, 'commit', '-q', '-m', 'merged feature')
    await git(p.repo, 'merge', '-q', '--no-ff', '-m', 'merge impl/a', 'impl/a')
    await git(p.repo, 'push', '-q', 'origin', 'main')
    assert.equal((await git(tree, 'for-each-ref', '--format=%(upstream)', 'refs/heads/impl/a')).trim(), '')

    await expectExit(p, 0, ['done', 'a'])
    assert.equal(existsSync(tree), false)
    assert.ok(await branchExists(p, 'impl/a'))
    assert.deepEqual(await instances(p), [])
  })

  test('a failing step inserted after worktree.create undoes everything: registry, worktrees and branches as before', async (t) => {
    const p = await project(
      t,
      {
        plugins: ['./boom.ts'],
        pipelines: { impl: { insert: [{ step: 'boom.fail', after: 'worktree.create' }] } },
      },
      { 'boom.ts': BOOM_PLUGIN },
    )
    // Something registered beforehand, so the registry file exists and must stay byte-for-byte.
    await expectExit(p, 0, ['spec', 'keep'])
    const before = await snapshot(p)
    const listedBefore = await instances(p)

    const failed = await expectExit(p, 1, ['impl', 'x', '--no-up'])
    assert.match(failed.stderr, /boom\.fail/)
    assert.match(failed.stderr, /boom/)

    assert.deepEqual(await snapshot(p), before)
    assert.deepEqual(await instances(p), listedBefore)
    assert.equal(existsSync(p.tree('impl', 'x')), false)
    assert.equal(await branchExists(p, 'impl/x'), false)
  })

  test('done a run from inside instance b removes only a', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'a', '--no-up'])
    await expectExit(p, 0, ['impl', 'b', '--no-up'])
    const a = p.tree('impl', 'a')
    const b = p.tree('impl', 'b')

    await expectExit(p, 0, ['done', 'a'], b)
    assert.equal(existsSync(a), false)
    assert.ok(existsSync(join(b, '.env.sandbox')))
    assert.equal(await git(b, 'status', '--porcelain'), '')
    const left = await instances(p)
    assert.deepEqual(
      left.map((r) => [r.id, r.path]),
      [[`${p.name}-impl-b`, b]],
    )
    assert.match(await git(p.repo, 'worktree', 'list', '--porcelain'), new RegExp(`${p.name}-impl-b`))
  })

  test('impl refuses ../../etc, ../x, an empty name, "a b", /a and a//b with exit 2 and creates nothing', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['spec', 'keep']) // the registry file exists
    const before = await snapshot(p)
    for (const name of ['../../etc', '../x', '', 'a b', '/a', 'a//b']) {
      const result = await expectExit(p, 2, ['impl', name, '--no-up'])
      assert.match(result.stderr, /impl name/, `the error names the problem for ${JSON.stringify(name)}`)
      assert.deepEqual(await snapshot(p), before, `nothing changed for ${JSON.stringify(name)}`)
    }
    assert.equal(existsSync(join(p.dir, 'etc')), false)
  })

  test('names as users type them: impl genome/M1 and impl MyFeature work; worktrees, list and --json show the typed name and the id; done genome/M1 removes the worktree', async (t) => {
    const p = await project(t)
    const genome = await expectExit(p, 0, ['impl', 'genome/M1', '--no-up', '--json'])
    const tree = p.tree('impl', 'genome-m1')
    assert.equal(genome.json.instance.id, `${p.name}-impl-genome-m1`)
    assert.equal(genome.json.instance.name, 'genome/M1')
    assert.equal(genome.json.instance.path, tree)
    assert.equal(genome.json.instance.branch, 'impl/genome-M1')
    assert.ok(existsSync(join(tree, '.env.sandbox')))
    assert.equal((await git(tree, 'rev-parse', '--abbrev-ref', 'HEAD')).trim(), 'impl/genome-M1')
    assert.ok(await branchExists(p, 'impl/genome-M1'))

    const upper = await expectExit(p, 0, ['impl', 'MyFeature', '--no-up'])
    assert.match(
      upper.stdout,
      new RegExp(`^created MyFeature as ${p.name}-impl-myfeature \\(slot 2\\) .* on impl/MyFeature$`, 'm'),
    )
    assert.ok(existsSync(p.tree('impl', 'myfeature')))
    assert.ok(await branchExists(p, 'impl/MyFeature'))

    const listed = await expectExit(p, 0, ['worktrees', '--json'])
    const rows = (listed.json.worktrees as { id: string | null; name: string | null; branch: string }[])
      .filter((w) => w.id !== null)
      .map((w) => [w.name, w.id, w.branch])
    assert.deepEqual(rows, [
      ['genome/M1', `${p.name}-impl-genome-m1`, 'impl/genome-M1'],
      ['MyFeature', `${p.name}-impl-myfeature`, 'impl/MyFeature'],
    ])
    const human = await expectExit(p, 0, ['worktrees'])
    assert.match(human.stdout, new RegExp(`impl/genome-M1 .* genome/M1 \\(${p.name}-impl-genome-m1\\)`))
    const list = await expectExit(p, 0, ['sandbox', 'list', '--json'])
    assert.deepEqual(
      list.json.instances.map((i: { name: string; id: string }) => [i.name, i.id]),
      [
        ['genome/M1', `${p.name}-impl-genome-m1`],
        ['MyFeature', `${p.name}-impl-myfeature`],
      ],
    )

    const done = await expectExit(p, 0, ['done', 'genome/M1', '--json'])
    assert.equal(done.json.instance.id, `${p.name}-impl-genome-m1`)
    assert.equal(done.json.instance.name, 'genome/M1')
    assert.equal(existsSync(tree), false, 'the worktree is gone')
    assert.doesNotMatch(await git(p.repo, 'worktree', 'list'), /genome-m1/)
    assert.ok(await branchExists(p, 'impl/genome-M1'), 'the branch is kept, as for every done')
    // Any spelling of the typed name reaches the instance: as typed, lower case, the slug, the id.
    await expectExit(p, 0, ['done', 'myfeature', '--dry-run'])
    await expectExit(p, 0, ['done', 'MyFeature'])
    assert.deepEqual(await instances(p), [])
  })

  test('two impl runs of the same name at once: exactly one wins, the other exits 3', async (t) => {
    const p = await project(t)
    const results = await Promise.all([p.run(['impl', 'same', '--no-up']), p.run(['impl', 'same', '--no-up'])])
    const codes = results.map((r) => r.code).sort()
    assert.deepEqual(codes, [0, 3], results.map((r) => r.stderr).join('\n---\n'))

    const worktrees = (await git(p.repo, 'worktree', 'list', '--porcelain')).match(/^worktree /gm) ?? []
    assert.equal(worktrees.length, 2, 'the main clone and one worktree')
    const registered = await instances(p)
    assert.equal(registered.length, 1)
    assert.equal(registered[0]?.path, p.tree('impl', 'same'))
    assert.ok(existsSync(join(p.tree('impl', 'same'), '.env.sandbox')))
  })

  test('spec s makes a worktree on spec/s without a slot, and done s removes it', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['spec', 's'])
    const tree = p.tree('spec', 's')
    assert.ok(existsSync(tree))
    assert.equal((await git(tree, 'rev-parse', '--abbrev-ref', 'HEAD')).trim(), 'spec/s')
    const [record] = await instances(p)
    assert.equal(record?.kind, 'spec')
    assert.equal(record?.slot, null)
    assert.ok((await slots(p)).every((s) => s.state === 'free'))

    await expectExit(p, 0, ['done', 's'])
    assert.equal(existsSync(tree), false)
    assert.ok(await branchExists(p, 'spec/s'))
    assert.deepEqual(await instances(p), [])
  })

  test('local-prod: refused in a worktree, slot 0 in the clone, a singleton, and destroy keeps the clone', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'w', '--no-up'])
    const worktree = p.tree('impl', 'w')
    await expectExit(p, 2, ['local-prod', 'init'], worktree)
    assert.deepEqual(
      (await instances(p)).map((r) => r.kind),
      ['impl'],
    )

    const init = await expectExit(p, 0, ['local-prod', 'init', '--json'])
    assert.equal(init.json.instance.slot, 0)
    assert.equal(init.json.instance.path, p.repo)
    assert.match(readFileSync(join(p.repo, '.env.sandbox'), 'utf8'), new RegExp(`^API_PORT=${p.apiBase}$`, 'm'))
    assert.equal(await git(p.repo, 'status', '--porcelain'), '')
    assert.equal((await slots(p)).find((s) => s.slot === 0)?.state, 'claimed')

    // Another clone of the same origin (same committed config, same project) cannot be a second local-prod.
    const other = join(p.dir, 'other-clone')
    await execFileAsync('git', ['clone', '-q', p.origin, other])
    const second = await expectExit(p, 3, ['local-prod', 'init'], other)
    assert.match(second.stderr, new RegExp(p.repo.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    assert.equal(existsSync(join(other, '.env.sandbox')), false)

    // destroy acts on the registered path, wherever it is run from, and never deletes the clone:
    // berth did not create it (and it is the main checkout).
    await expectExit(p, 0, ['local-prod', 'destroy'], other)
    assert.ok(!existsSync(join(p.repo, '.env.sandbox')), 'the released slot no longer has an env file')
    assert.equal((await slots(p)).find((s) => s.slot === 0)?.state, 'free')
    assert.deepEqual(
      (await instances(p)).map((r) => r.kind),
      ['impl'],
    )
    assert.ok(existsSync(join(p.repo, '.git')), 'the registered clone is still there')
    assert.ok(existsSync(join(p.repo, 'README.md')))
    assert.ok(existsSync(join(other, '.git')), 'the clone it ran from is untouched')
    assert.ok(existsSync(worktree), 'the impl worktree is untouched')

    // Run from the clone itself, it keeps the folder too.
    await expectExit(p, 0, ['local-prod', 'init'])
    await expectExit(p, 0, ['local-prod', 'destroy'])
    assert.ok(existsSync(join(p.repo, '.git')))
    assert.equal((await slots(p)).find((s) => s.slot === 0)?.state, 'free')
  })

  /** A volume and a network labelled as compose would label them for `project`. */
  async function fakeStack(t: TestContext, project: string): Promise<void> {
    const labels = ['--label', `com.docker.compose.project=${project}`]
    await execFileAsync('docker', [
      'volume',
      'create',
      ...labels,
      '--label',
      'com.docker.compose.volume=data',
      `${project}_data`,
    ])
    await execFileAsync('docker', [
      'network',
      'create',
      ...labels,
      '--label',
      'com.docker.compose.network=default',
      `${project}_default`,
    ])
    t.after(async () => {
      await execFileAsync('docker', ['volume', 'rm', '-f', `${project}_data`]).catch(() => undefined)
      await execFileAsync('docker', ['network', 'rm', `${project}_default`]).catch(() => undefined)
    })
  }

  async function stackLeft(project: string): Promise<string> {
    const filter = `label=com.docker.compose.project=${project}`
    const [volumes, networks, containers] = await Promise.all([
      execFileAsync('docker', ['volume', 'ls', '-q', '--filter', filter]),
      execFileAsync('docker', ['network', 'ls', '-q', '--filter', filter]),
      execFileAsync('docker', ['ps', '-aq', '--filter', filter]),
    ])
    return `${volumes.stdout}${networks.stdout}${containers.stdout}`.trim()
  }

  test('sandbox destroy in an impl worktree removes its stack, slot and worktree; --keep-worktree keeps the folder', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'd', '--no-up'])
    const d = p.tree('impl', 'd')
    const id = `${p.name}-impl-d`
    await fakeStack(t, id)
    assert.notEqual(await stackLeft(id), '')

    await expectExit(p, 0, ['sandbox', 'destroy'], d)
    assert.equal(await stackLeft(id), '', 'no volume, network or container of the project is left')
    assert.equal(existsSync(d), false)
    assert.ok(await branchExists(p, 'impl/d'))
    assert.deepEqual(await instances(p), [])

    await expectExit(p, 0, ['impl', 'k', '--no-up'])
    const k = p.tree('impl', 'k')
    await expectExit(p, 0, ['sandbox', 'destroy', '--keep-worktree'], k)
    assert.ok(existsSync(k), 'the folder is kept')
    assert.match(await git(p.repo, 'worktree', 'list', '--porcelain'), new RegExp(`${p.name}-impl-k`))
    assert.deepEqual(await instances(p), [])
    assert.ok((await slots(p)).every((s) => s.state === 'free'))
  })

  test('done with a prefix matching two instances exits 2 and lists both', async (t) => {
    const p = await project(t)
    await expectExit(p, 0, ['impl', 'feat-one', '--no-up'])
    await expectExit(p, 0, ['impl', 'feat-two', '--no-up'])
    const before = await snapshot(p)

    const result = await expectExit(p, 2, ['done', 'feat'])
    assert.match(result.stderr, new RegExp(`${p.name}-impl-feat-one`))
    assert.match(result.stderr, new RegExp(`${p.name}-impl-feat-two`))
    assert.deepEqual(await snapshot(p), before)
  })
})
