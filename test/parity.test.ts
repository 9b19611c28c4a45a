/**
 * Parity with the original tool's workflow (issue 17), end to end with the real CLI, real git
 * (a bare origin) and the real Docker engine: a sandbox on any branch, `--all` clean-ups, slot
 * profiles on the demo stack, and host services for local-prod.
 *
 * Every repository gets a project name of its own (`prt<run>…`), its own BERTH_HOME and port
 * block; `after` removes, through the engine API, anything still labelled with a compose project
 * this file made — never any other project.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { projectObjects, removeProject } from './helpers/demo.js'
import { berth, git, testdir } from './helpers/index.js'
import { itemsPortBlock, itemsStackRepo } from './helpers/items-stack.js'

const RUN = randomBytes(2).toString('hex')
/** Every compose project this file may have created: the safety net removes exactly these. */
const ourProjects = new Set<string>()
const cleanups: (() => void)[] = []

after(async () => {
  await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  for (const cleanup of cleanups) cleanup()
})

function registry(home: string): { instances: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(join(home, 'registry.json'), 'utf8'))
}

async function httpText(url: string): Promise<string> {
  const response = await fetch(url)
  return (await response.text()).trim()
}

/** A scratch repository with the busybox items stack, its own BERTH_HOME and a runner for berth. */
async function itemsProject(label: string, extra: Record<string, unknown> = {}) {
  const { dir, cleanup } = testdir(`berth-parity-${label}-`)
  cleanups.push(cleanup)
  const project = `prt${RUN}${label}`
  const block = itemsPortBlock()
  const repo = await itemsStackRepo(dir, project, block, extra)
  const home = join(dir, 'home')
  const run = (args: string[], cwd = repo) => berth(args, { cwd, home, timeoutMs: 180_000 })
  const id = (feature: string, kind = 'impl') => {
    const value = `${project}-${kind}-${feature}`
    ourProjects.add(value)
    return value
  }
  return { dir, repo, home, project, block, run, id }
}

describe('a sandbox on an existing branch', () => {
  test('impl --branch runs the stack on a branch only origin has, done keeps the branch, a branch checked out elsewhere exits 3', async () => {
    const p = await itemsProject('br')
    // Someone else pushes feature/review-me from their own clone; this clone has never seen it.
    const other = join(p.dir, 'someone-else')
    await git(p.dir, 'clone', '-q', join(p.dir, 'origin.git'), other)
    await git(other, 'checkout', '-q', '-b', 'feature/review-me')
    writeFileSync(join(other, 'www/index.html'), 'the code under review\n')
    await git(other, 'commit', '-q', '-am', 'review me')
    await git(other, 'push', '-q', '-u', 'origin', 'feature/review-me')
    assert.equal(await git(p.repo, 'branch', '--list', 'feature/review-me'), '')

    const id = p.id('r')
    const made = await p.run(['impl', 'r', '--branch', 'feature/review-me', '--json'])
    assert.equal(made.code, 0, made.stderr)
    const tree = made.json.instance.path as string
    assert.equal((await git(tree, 'rev-parse', '--abbrev-ref', 'HEAD')).trim(), 'feature/review-me')
    assert.equal((await git(tree, 'rev-parse', '--abbrev-ref', '@{upstream}')).trim(), 'origin/feature/review-me')
    const port = made.json.instance.ports.SHOP_API_PORT as number
    assert.equal(await httpText(`http://127.0.0.1:${port}/`), 'the code under review')
    const record = registry(p.home).instances.find((r) => r.id === id)!
    assert.equal(record.branch, 'feature/review-me')
    assert.equal(record.branchCreatedByBerth, false)

    // Unpushed work on that branch is refused as on any other; pushed, done goes ahead.
    writeFileSync(join(tree, 'www/index.html'), 'reviewed\n')
    await git(tree, 'commit', '-q', '-am', 'review fix')
    const refused = await p.run(['done', 'r'])
    assert.equal(refused.code, 3, refused.stderr)
    assert.match(refused.stderr, /unpushed/)
    await git(tree, 'push', '-q')
    const done = await p.run(['done', 'r', '--json'])
    assert.equal(done.code, 0, done.stderr)
    assert.equal(existsSync(tree), false)
    assert.notEqual((await git(p.repo, 'rev-parse', '--verify', 'refs/heads/feature/review-me')).trim(), '')
    assert.match(await git(p.repo, 'ls-remote', '--heads', 'origin', 'feature/review-me'), /feature\/review-me/)
    assert.equal((await projectObjects(id)).containers.length, 0)

    // A branch checked out in another worktree (here a plain git worktree) exits 3 naming it.
    const elsewhere = join(p.dir, 'elsewhere')
    await git(p.repo, 'worktree', 'add', '-q', elsewhere, 'feature/review-me')
    const taken = await p.run(['impl', 'r2', '--branch', 'feature/review-me'])
    assert.equal(taken.code, 3, taken.stderr)
    assert.ok(taken.stderr.includes(elsewhere), taken.stderr)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-r2`)), false)
    assert.equal(registry(p.home).instances.length, 0)
    const onMain = await p.run(['spec', 's', '--branch', 'main'])
    assert.equal(onMain.code, 3, onMain.stderr)
    assert.ok(onMain.stderr.includes(p.repo), onMain.stderr)

    // spec takes --branch too: the local branch is reused, and done leaves it.
    await git(p.repo, 'worktree', 'remove', elsewhere)
    const spec = await p.run(['spec', 's', '--branch', 'feature/review-me', '--json'])
    assert.equal(spec.code, 0, spec.stderr)
    assert.equal((await git(spec.json.instance.path, 'branch', '--show-current')).trim(), 'feature/review-me')
    const specDone = await p.run(['done', 's'])
    assert.equal(specDone.code, 0, specDone.stderr)
    assert.notEqual((await git(p.repo, 'branch', '--list', 'feature/review-me')).trim(), '')

    // A branch found nowhere is bad input: exit 2, nothing made.
    const missing = await p.run(['impl', 'nope', '--branch', 'feature/not-there'])
    assert.equal(missing.code, 2, missing.stderr)
    assert.match(missing.stderr, /feature\/not-there/)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-nope`)), false)
    assert.equal(registry(p.home).instances.length, 0)
  })
})

describe('cleaning up every instance', () => {
  test('sandbox destroy --all removes every instance it safely can, keeps the one with unpushed work and says why (exit 3); --dry-run changes nothing', async () => {
    const p = await itemsProject('all', { slots: { pool: [1, 2, 3] } })
    const ids = ['a', 'b', 'c'].map((feature) => p.id(feature))
    for (const feature of ['a', 'b', 'c']) {
      const made = await p.run(['impl', feature])
      assert.equal(made.code, 0, made.stderr)
    }
    const keep = join(p.dir, `${p.project}-impl-c`)
    writeFileSync(join(keep, 'www/index.html'), 'work in progress\n')
    await git(keep, 'commit', '-q', '-am', 'not pushed yet')
    const running = async (id: string) => (await projectObjects(id)).containers.length

    const planned = await p.run(['sandbox', 'destroy', '--all', '--dry-run', '--json'])
    assert.equal(planned.code, 3, planned.stderr)
    assert.equal(planned.json.all.dryRun, true)
    assert.deepEqual(planned.json.all.went.map((e: { id: string }) => e.id).sort(), ids.slice(0, 2))
    assert.deepEqual(
      planned.json.all.stayed.map((e: { id: string }) => e.id),
      [ids[2]],
    )
    assert.match(planned.json.all.stayed[0].reason, /unpushed/)
    assert.equal(registry(p.home).instances.length, 3)
    for (const id of ids) assert.ok((await running(id)) > 0, `${id} still runs after --dry-run`)
    for (const feature of ['a', 'b', 'c']) assert.ok(existsSync(join(p.dir, `${p.project}-impl-${feature}`)))

    const destroyed = await p.run(['sandbox', 'destroy', '--all', '--json'])
    assert.equal(destroyed.code, 3, destroyed.stderr)
    assert.equal(destroyed.json.ok, false)
    assert.deepEqual(destroyed.json.all.went.map((e: { id: string }) => e.id).sort(), ids.slice(0, 2))
    const stayed = destroyed.json.all.stayed[0]
    assert.equal(stayed.id, ids[2])
    assert.equal(stayed.exitCode, 3)
    assert.match(stayed.reason, /unpushed/)
    assert.match(stayed.hint, /--force/)
    for (const id of ids.slice(0, 2)) assert.equal(await running(id), 0)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-a`)), false)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-b`)), false)
    assert.ok((await running(ids[2]!)) > 0, 'the kept instance still runs')
    assert.ok(existsSync(keep))
    assert.deepEqual(
      registry(p.home).instances.map((r) => r.id),
      [ids[2]],
    )

    // done --all says the same for humans; with --force the last one goes too.
    const told = await p.run(['done', '--all'])
    assert.equal(told.code, 3, told.stderr)
    assert.match(told.stdout, /kept\s+\S+-impl-c slot \d: [\s\S]*unpushed/)
    assert.match(told.stdout, /0 removed, 1 kept/)
    const forced = await p.run(['done', '--all', '--force', '--json'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(
      forced.json.all.went.map((e: { id: string }) => e.id),
      [ids[2]],
    )
    assert.equal(registry(p.home).instances.length, 0)
    assert.equal(await running(ids[2]!), 0)
    const nothing = await p.run(['done', '--all'])
    assert.equal(nothing.code, 0, nothing.stderr)
    assert.match(nothing.stdout, /nothing to remove/)
  })
})
