/**
 * One operation per instance (issue 15), and what `doctor` names and `doctor --fix` repairs,
 * through the real CLI on real git and the real engine: two `sandbox up` at once in one worktree,
 * operations refused with exit 3 `busy: <pid> <command>` while another holds the instance, a
 * holder that died never blocking, hand-edited `.env.sandbox` ports, duplicate registry entries,
 * and worktrees named like berth's that no instance is registered for.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { buildDemoImages, engine, projectObjects, readEnvFile, removeProject } from './helpers/demo.js'
import { git } from './helpers/index.js'
import {
  type Check,
  expectExit,
  ourProjects,
  type RelRepo,
  type RepairLine,
  registryFile,
  registryIds,
  relRepo,
  spawnBerth,
  until,
} from './reliability-fixtures.js'

before(
  async () => {
    await engine('/_ping')
    await buildDemoImages()
  },
  { timeout: 300_000 },
)

after(
  async () => {
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 60_000 },
)

async function runningContainers(project: string): Promise<string[]> {
  const { containers } = await projectObjects(project)
  return containers
    .filter((c) => c.State === 'running')
    .map((c) => c.Id)
    .sort()
}

function warnings(json: { checks: Check[] }, check: string): string[] {
  return json.checks.filter((c) => c.check === check && c.status !== 'ok').map((c) => c.detail)
}

describe('one operation per instance', { concurrency: true }, () => {
  test('two sandbox up at once in one worktree: one exits 3 "busy: <pid> berth sandbox up", the stack runs and berth gate passes', {
    timeout: 300_000,
  }, async (t) => {
    const rel = await relRepo('lock-up')
    t.after(() => rel.cleanup())
    expectExit(await rel.run(['impl', 'a', '--no-up']), 0, 'impl a --no-up')
    const [one, two] = await Promise.all([
      rel.run(['sandbox', 'up'], { cwd: rel.tree('a') }),
      rel.run(['sandbox', 'up'], { cwd: rel.tree('a') }),
    ])
    const codes = [one.code, two.code].sort()
    assert.deepEqual(codes, [0, 3], `exit codes\n${one.stderr}\n---\n${two.stderr}`)
    const loser = one.code === 3 ? one : two
    assert.match(loser.stderr, /busy: \d+ berth sandbox up \(working on \S+impl-a since /)
    assert.doesNotMatch(loser.stderr, /compose\.up|ports\.check/, 'the loser started nothing')
    const running = await runningContainers(rel.id('a'))
    assert.equal(running.length, 2, 'db and backend run')
    expectExit(await rel.run(['gate'], { cwd: rel.tree('a') }), 0, 'berth gate')
    assert.deepEqual(await runningContainers(rel.id('a')), running, 'the same containers, untouched')
  })

  test('while an up holds the instance, down, done and test e2e exit 3 naming it; status and gate are not blocked; interrupted, the up rolls back and the next up passes', {
    timeout: 300_000,
  }, async (t) => {
    const rel = await relRepo('lock-busy')
    t.after(() => rel.cleanup())
    expectExit(await rel.run(['impl', 'a', '--no-up']), 0, 'impl a --no-up')
    // db's health stays "starting", so compose waits inside `up`: the lock is held for minutes.
    const holder = spawnBerth(['sandbox', 'up', '--verbose'], {
      cwd: rel.tree('a'),
      home: rel.home,
      env: { BERTH_TEST_HOLD: '1' },
    })
    await until('compose up to start', () => /→ compose\.up/.test(holder.stderr()), 120_000)
    const pid = holder.child.pid
    for (const args of [
      ['sandbox', 'down'],
      ['done', 'a', '--force'],
      ['test', 'e2e'],
      ['sandbox', 'up'],
    ]) {
      const busy = expectExit(await rel.run(args, { cwd: rel.tree('a') }), 3, `${args.join(' ')} while up runs`)
      assert.match(busy.stderr, new RegExp(`busy: ${pid} berth sandbox up`))
      assert.match(busy.stderr, /hint: one operation per instance at a time/)
    }
    const status = expectExit(await rel.run(['sandbox', 'status', '--json'], { cwd: rel.tree('a') }), 0, 'status')
    assert.equal(status.json.instance.id, rel.id('a'))
    expectExit(await rel.run(['gate', '--timeout', '1'], { cwd: rel.tree('a') }), 1, 'gate (not blocked, fails)')
    assert.ok(registryIds(rel.home).includes(rel.id('a')), 'done did nothing')

    holder.child.kill('SIGINT')
    assert.equal(await holder.exited, 130, holder.stderr())
    assert.match(holder.stderr(), /interrupted \(SIGINT\) during compose\.up/)
    assert.deepEqual(await runningContainers(rel.id('a')), [], 'the half-made stack is rolled back')
    expectExit(await rel.run(['sandbox', 'up'], { cwd: rel.tree('a') }), 0, 'sandbox up after the interrupt')
    expectExit(await rel.run(['gate'], { cwd: rel.tree('a') }), 0, 'gate')
  })

  test('a holder that died never blocks: doctor names the interrupted operation, and the next up takes the lock over', {
    timeout: 300_000,
  }, async (t) => {
    const rel = await relRepo('lock-dead')
    t.after(() => rel.cleanup())
    expectExit(await rel.run(['impl', 'a', '--no-up']), 0, 'impl a --no-up')
    const killed = spawnBerth(['sandbox', 'up', '--verbose'], {
      cwd: rel.tree('a'),
      home: rel.home,
      env: { BERTH_TEST_HOLD: '1' },
    })
    await until('the lock to be taken', () => /✔ registry\.lock/.test(killed.stderr()), 120_000)
    killed.killGroup()
    await killed.exited
    const lock = join(rel.home, 'locks', `${rel.id('a')}.lock`)
    assert.ok(existsSync(lock), 'the dead holder left its lock')
    const doctor = expectExit(await rel.run(['doctor', '--json']), 0, 'doctor')
    const interrupted = warnings(doctor.json, 'interrupted operation')
    assert.equal(interrupted.length, 1)
    assert.match(
      interrupted[0]!,
      new RegExp(`berth sandbox up \\(pid ${killed.child.pid}, .* died while working on ${rel.id('a')}`),
    )
    const started = Date.now()
    expectExit(await rel.run(['sandbox', 'up'], { cwd: rel.tree('a') }), 0, 'sandbox up after a dead holder')
    assert.ok(Date.now() - started < 120_000)
    expectExit(await rel.run(['gate'], { cwd: rel.tree('a') }), 0, 'gate')
    assert.equal(existsSync(lock), false, 'released after the up')
  })
})

describe('what doctor names and doctor --fix repairs', { concurrency: true }, () => {
  test('a hand-edited .env.sandbox port (another instance’s, or a stranger’s) makes sandbox up exit 3 before anything starts; doctor names it, doctor --fix rewrites it', {
    timeout: 300_000,
  }, async (t) => {
    const rel = await relRepo('envport')
    t.after(() => rel.cleanup())
    expectExit(await rel.run(['impl', 'a', '--no-up']), 0, 'impl a')
    expectExit(await rel.run(['impl', 'b', '--no-up']), 0, 'impl b')
    const fileA = join(rel.tree('a'), '.env.sandbox')
    const original = readFileSync(fileA, 'utf8')
    const portB = readEnvFile(join(rel.tree('b'), '.env.sandbox')).KTRDR_API_PORT!
    writeFileSync(fileA, original.replace(/^KTRDR_API_PORT=.*$/m, `KTRDR_API_PORT=${portB}`))
    const other = expectExit(await rel.run(['sandbox', 'up'], { cwd: rel.tree('a') }), 3, 'up with b’s port')
    assert.match(other.stderr, new RegExp(`KTRDR_API_PORT=${portB} \\(slot \\d+'s port, claimed by ${rel.id('b')}\\)`))
    assert.match(other.stderr, /doctor --fix/)
    assert.deepEqual((await projectObjects(rel.id('a'))).containers, [], 'nothing started')

    const stranger = createServer().listen(0, '127.0.0.1')
    t.after(() => stranger.close())
    await new Promise((resolve) => stranger.once('listening', resolve))
    const strangerPort = (stranger.address() as { port: number }).port
    writeFileSync(fileA, original.replace(/^KTRDR_DB_PORT=.*$/m, `KTRDR_DB_PORT=${strangerPort}`))
    const held = expectExit(await rel.run(['sandbox', 'up'], { cwd: rel.tree('a') }), 3, 'up with a stranger’s port')
    assert.match(held.stderr, new RegExp(`KTRDR_DB_PORT=${strangerPort} \\(held by pid ${process.pid}`))

    const doctor = expectExit(await rel.run(['doctor', '--json']), 0, 'doctor')
    assert.ok(
      warnings(doctor.json, 'env file').some((d) => d.includes(`KTRDR_DB_PORT=${strangerPort} (claim:`)),
      JSON.stringify(doctor.json.checks),
    )
    expectExit(await rel.run(['doctor', '--fix']), 0, 'doctor --fix')
    assert.equal(readFileSync(fileA, 'utf8'), original)
    expectExit(await rel.run(['sandbox', 'up'], { cwd: rel.tree('a') }), 0, 'sandbox up after doctor --fix')
  })

  test('doctor names duplicate registry entries, unregistered <project>-impl-* worktrees and stray folders; --fix removes only the clean worktree', {
    timeout: 240_000,
  }, async (t) => {
    const rel: RelRepo = await relRepo('doctor')
    t.after(() => rel.cleanup())
    expectExit(await rel.run(['impl', 'clean', '--no-up']), 0, 'impl clean')
    expectExit(await rel.run(['impl', 'work', '--no-up']), 0, 'impl work')
    expectExit(await rel.run(['impl', 'dup', '--no-up']), 0, 'impl dup')
    // Forget two claims (their folders stay): one worktree is clean, the other holds a commit.
    const registry = JSON.parse(readFileSync(registryFile(rel.home), 'utf8'))
    const slotOf = (id: string) => registry.instances.find((r: { id: string }) => r.id === id).slot
    expectExit(await rel.run(['sandbox', 'release', String(slotOf(rel.id('clean')))]), 0, 'release clean')
    expectExit(await rel.run(['sandbox', 'release', String(slotOf(rel.id('work')))]), 0, 'release work')
    writeFileSync(join(rel.tree('work'), 'notes.txt'), 'mine\n')
    await git(rel.tree('work'), 'add', 'notes.txt')
    await git(rel.tree('work'), 'commit', '-qm', 'unpushed work')
    // A stray folder named like berth's worktrees, and a registry entry written twice by hand.
    mkdirSync(join(rel.dir, `${rel.project}-impl-stray`))
    writeFileSync(join(rel.dir, `${rel.project}-impl-stray`, 'left.txt'), 'from a hook\n')
    const edited = JSON.parse(readFileSync(registryFile(rel.home), 'utf8'))
    edited.instances.push({ ...edited.instances.find((r: { id: string }) => r.id === rel.id('dup')) })
    writeFileSync(registryFile(rel.home), JSON.stringify(edited, null, 2))

    const doctor = expectExit(await rel.run(['doctor', '--json']), 0, 'doctor')
    const trees = warnings(doctor.json, 'worktree')
    assert.ok(
      trees.some((d) => d.includes(`${rel.tree('clean')} on impl/clean is not registered`)),
      trees.join('\n'),
    )
    assert.ok(
      trees.some((d) => d.includes(`${rel.tree('work')} on impl/work is not registered`)),
      trees.join('\n'),
    )
    assert.ok(
      trees.some((d) => d.includes(`${rel.project}-impl-stray is named like a berth worktree`)),
      trees.join('\n'),
    )
    const duplicates = warnings(doctor.json, 'duplicate claims')
    assert.ok(
      duplicates.some((d) => d.includes(`instance id ${rel.id('dup')} is registered 2 times`)),
      duplicates.join('\n'),
    )

    const fix = expectExit(await rel.run(['doctor', '--fix', '--json']), 0, 'doctor --fix')
    const repairs = fix.json.repairs as RepairLine[]
    const line = (needle: string) => repairs.find((r) => r.action.includes(needle))
    assert.equal(line(`remove unregistered worktree ${rel.tree('clean')}`)?.status, 'fixed', JSON.stringify(repairs))
    assert.equal(line(`leave unregistered worktree ${rel.tree('work')} alone`)?.status, 'skipped')
    assert.match(line(`leave unregistered worktree ${rel.tree('work')} alone`)?.detail ?? '', /unpushed commits/)
    assert.equal(existsSync(rel.tree('clean')), false, 'the clean worktree is removed')
    assert.ok(existsSync(join(rel.tree('work'), 'notes.txt')), 'the one holding work stays')
    assert.ok(existsSync(join(rel.dir, `${rel.project}-impl-stray`, 'left.txt')), 'the stray folder stays')
    assert.ok((await git(rel.repo, 'branch', '--list', 'impl/clean')).includes('impl/clean'), 'its branch is kept')
    expectExit(await rel.run(['impl', 'clean', '--no-up']), 0, 'impl clean again')
  })
})
