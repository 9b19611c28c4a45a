/**
 * Reliability: what berth does when things go wrong, proven on real processes, real git and the
 * real Docker engine. berth is SIGKILLed (with its whole process group: git, compose) at each
 * stage of `impl`; the engine is made unreachable (DOCKER_HOST pointing at a socket that does not
 * exist — the real engine keeps running for the other tests); BERTH_HOME sits on a 64 kB tmpfs
 * that fills up; a stranger takes a port between claim and `up`; stacks are orphaned. After each,
 * `berth doctor` must report exactly that state and `doctor --fix` repair what is safe.
 * docs/reliability.md lists every fault with the test here that proves it.
 *
 * Each test has its own repository, BERTH_HOME, project name (`rel<run>-<label>`) and block of
 * 100 ports in 57000-63999; the `after` hook removes every compose project these tests named.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  watch,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import {
  berthTimed,
  buildDemoImages,
  countProjectObjects,
  engine,
  projectObjects,
  readEnvFile,
  removeProject,
} from './helpers/demo.js'
import { berth, git, gitRepo, testdir, writeConfig } from './helpers/index.js'
import {
  type Check,
  checksAbout,
  expectExit,
  ourProjects,
  portBlock,
  type RelRepo,
  type RepairLine,
  RUN,
  registryBytes,
  registryFile,
  registryIds,
  relRepo,
  spawnBerth,
  until,
} from './reliability-fixtures.js'

const execFileAsync = promisify(execFile)
const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }

before(
  async () => {
    await engine('/_ping') // no engine: every test fails here, none is skipped
    await buildDemoImages()
  },
  { timeout: 300_000 },
)

after(
  async () => {
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 120_000 },
)

/**
 * Checks that are not `ok`, for an exact comparison — but `interrupted operation`, which every kill
 * test expects (see {@link assertKilledImplNamed}).
 */
function problems(json: { checks: Check[] }): Check[] {
  return json.checks.filter((c) => c.status !== 'ok' && c.check !== 'interrupted operation')
}

/** The lock a SIGKILLed `impl x` held names it: `berth impl x (pid N, started …) died while working on <id>`. */
function assertKilledImplNamed(json: { checks: Check[] }, rel: RelRepo): void {
  const interrupted = json.checks.filter((c) => c.check === 'interrupted operation')
  assert.equal(interrupted.length, 1, describeChecks(json))
  assert.match(
    interrupted[0]!.detail,
    new RegExp(`^berth impl x \\(pid \\d+, .* died while working on ${rel.id('x')}$`),
  )
}

function describeChecks(json: { checks: Check[] }): string {
  return json.checks.map((c) => `${c.status} ${c.check}: ${c.detail}`).join('\n')
}

async function doctor(rel: RelRepo, ...flags: string[]) {
  const result = await rel.run(['doctor', '--json', ...flags])
  assert.ok(result.json, `doctor printed no JSON:\n${result.stdout}\n${result.stderr}`)
  return result
}

async function branchExists(repo: string, branch: string): Promise<boolean> {
  return (await git(repo, 'branch', '--list', branch)).trim() !== ''
}

/** Starts `impl x` parked or slowed as `env` says, waits for `ready`, then SIGKILLs its process group. */
async function killImpl(
  rel: RelRepo,
  env: NodeJS.ProcessEnv,
  ready: (stderr: () => string) => Promise<void>,
): Promise<void> {
  ourProjects.add(rel.id('x'))
  const impl = spawnBerth(['impl', 'x', '--verbose'], { cwd: rel.repo, home: rel.home, env })
  try {
    await Promise.race([
      ready(impl.stderr),
      impl.exited.then((code) => assert.fail(`impl exited ${code} before it could be killed:\n${impl.stderr()}`)),
    ])
  } finally {
    impl.killGroup()
  }
  assert.equal(await impl.exited, 'SIGKILL')
}

/** After a kill: a command that takes the registry lock runs at once, doctor is asked, and so on. */
async function afterKill(rel: RelRepo) {
  const started = Date.now()
  const slots = expectExit(await rel.run(['sandbox', 'slots', '--json']), 0, 'sandbox slots after the kill')
  assert.ok(Date.now() - started < 20_000, 'the next command was not held up')
  return slots
}

// Timed, so run before the busy tests below, one at a time.
describe('the environment fails under berth', { concurrency: false }, () => {
  test('engine unreachable: every command that needs it exits 4 naming the socket within 2 s of its first step, the registry stays byte-identical and impl rolls back', {
    timeout: 240_000,
  }, async (t) => {
    const rel = await relRepo('noengine')
    t.after(() => rel.cleanup())
    expectExit(await rel.run(['impl', 'a', '--no-up']), 0, 'impl a --no-up')
    const socket = `/tmp/berth-rel-${RUN}-${randomBytes(3).toString('hex')}.sock`
    const env = { DOCKER_HOST: `unix://${socket}` }
    const before = registryBytes(rel.home)
    const tree = rel.tree('a')
    const commands: [string[], string][] = [
      [['sandbox', 'up'], tree],
      [['sandbox', 'status'], tree],
      [['sandbox', 'list'], rel.repo],
      [['sandbox', 'down'], tree],
      [['sandbox', 'logs', '--tail', '5'], tree],
      [['done', 'a', '--force'], rel.repo],
      [['sandbox', 'destroy', '--force'], tree],
    ]
    for (const [args, cwd] of commands) {
      const result = await berthTimed([...args, '--verbose'], { cwd, home: rel.home, env })
      expectExit(result, 4, args.join(' '))
      assert.ok(
        result.stderr.includes(`Docker engine not reachable at ${socket}`),
        `${args.join(' ')} names the socket:\n${result.stderr}`,
      )
      const firstStep = result.lineAt(/→ /)
      assert.ok(firstStep, result.stderr)
      const ms = result.endedAt - firstStep
      assert.ok(ms < 2000, `${args.join(' ')} took ${ms} ms from its first step to its exit:\n${result.stderr}`)
      assert.deepEqual(registryBytes(rel.home), before, `${args.join(' ')} left the registry as it was`)
      assert.ok(existsSync(join(tree, '.env.sandbox')), `${args.join(' ')} left the instance alone`)
    }

    const impl = await berthTimed(['impl', 'b', '--verbose'], { cwd: rel.repo, home: rel.home, env })
    expectExit(impl, 4, 'impl b')
    assert.ok(impl.stderr.includes(`Docker engine not reachable at ${socket}`), impl.stderr)
    const upStarted = impl.lineAt(/→ compose\.up/)
    const upFailed = impl.lineAt(/✖ compose\.up/)
    assert.ok(upStarted && upFailed && upFailed - upStarted < 2000, `compose.up took ${upFailed! - upStarted!} ms`)
    assert.equal(existsSync(rel.tree('b')), false, 'no worktree is left')
    assert.equal(await branchExists(rel.repo, 'impl/b'), false, 'no branch is left')
    assert.deepEqual(registryBytes(rel.home), before, 'no claim is left; the registry is byte-identical')

    const report = await rel.run(['doctor', '--json'], { env })
    expectExit(report, 4, 'doctor')
    const engineCheck = report.json.checks.find((c: Check) => c.check === 'docker engine')
    assert.equal(engineCheck.status, 'fail')
    assert.match(engineCheck.detail, new RegExp(`Docker engine not reachable at ${socket}`))
  })

  test('registry on a full filesystem: the write fails with exit 1 naming the file, the old registry is intact, and berth works again once there is room', {
    timeout: 120_000,
  }, async (t) => {
    const { dir, cleanup } = testdir('berth-rel-full-')
    const home = join(dir, 'home')
    mkdirSync(home)
    await execFileAsync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', home])
    t.after(async () => {
      await execFileAsync('umount', [home]).catch(() => undefined)
      cleanup()
    })
    const base = portBlock()
    const repos = await Promise.all(
      ['one', 'two'].map(async (name, index) => {
        const { repo } = await gitRepo(join(dir, name), `full-${name}`)
        writeConfig(repo, { project: `rel${RUN}-full`, ports: { API_PORT: { base: base + index * 10 } } })
        return repo
      }),
    )
    expectExit(await berth(['sandbox', 'init'], { cwd: repos[0]!, home }), 0, 'sandbox init in one')
    const before = registryBytes(home)
    assert.ok(before)

    // Fill the tmpfs, then free exactly two pages: the two lock files fit (the instance lock, taken
    // first, and registry.lock), the new registry does not.
    const filler = join(home, 'filler')
    try {
      for (;;) writeFileSync(filler, Buffer.alloc(4096), { flag: 'a' })
    } catch (error) {
      assert.equal((error as NodeJS.ErrnoException).code, 'ENOSPC')
    }
    truncateSync(filler, statSync(filler).size - 8192)
    const full = await berth(['sandbox', 'init'], { cwd: repos[1]!, home })
    expectExit(full, 1, 'sandbox init on a full disk')
    assert.ok(full.stderr.includes(`could not write ${join(home, 'registry.json')}`), full.stderr)
    assert.match(full.stderr, /ENOSPC|no space left/i)
    assert.match(full.stderr, /the previous registry is intact/)
    assert.deepEqual(registryBytes(home), before, 'registry.json is byte-identical')
    assert.deepEqual(
      readdirSync(home).filter((f) => f !== 'filler' && f !== 'registry.json'),
      [],
      'no temp file and no lock (nor an empty locks folder) are left',
    )
    assert.equal(existsSync(join(repos[1]!, '.env.sandbox')), false, 'nothing was written for two')

    // Not even the lock fits.
    try {
      writeFileSync(join(home, 'filler2'), Buffer.alloc(4096))
    } catch {}
    const fuller = await berth(['sandbox', 'init'], { cwd: repos[1]!, home })
    expectExit(fuller, 1, 'sandbox init on a completely full disk')
    // The first lock it takes is the instance's (one operation per instance), then registry.lock.
    assert.ok(
      fuller.stderr.includes(join(home, 'locks')) || fuller.stderr.includes(join(home, 'registry.lock')),
      fuller.stderr,
    )
    assert.deepEqual(registryBytes(home), before)

    rmSync(filler)
    rmSync(join(home, 'filler2'), { force: true })
    expectExit(await berth(['sandbox', 'init'], { cwd: repos[1]!, home }), 0, 'sandbox init once there is room')
    assert.equal(registryIds(home).length, 2)
  })
})

// Every test has its own repository, home and ports: they all run side by side.
describe('reliability', { concurrency: true }, () => {
  describe('berth survives SIGKILL at every stage of impl', { concurrency: true }, () => {
    test('killed right after registry.claim: doctor reports the ghost claim, doctor --fix releases it, impl of the same name then succeeds', {
      timeout: 240_000,
    }, async (t) => {
      const rel = await relRepo('kclaim', { pause: true })
      t.after(() => rel.cleanup())
      const marker = join(rel.dir, 'paused')
      await killImpl(rel, { BERTH_TEST_PAUSE: 'after-claim', BERTH_TEST_MARKER: marker }, () =>
        until('impl to park after registry.claim', () => existsSync(marker)),
      )
      assert.deepEqual(registryIds(rel.home), [rel.id('x')], 'the claim is there')
      assert.equal(existsSync(rel.tree('x')), false, 'no worktree yet')
      await afterKill(rel)

      const report = await doctor(rel)
      expectExit(report, 0, 'doctor')
      assertKilledImplNamed(report.json, rel)
      const found = problems(report.json)
      assert.deepEqual(
        found.map((c) => c.check),
        ['stale claim'],
        `exactly the ghost claim is reported:\n${describeChecks(report.json)}`,
      )
      assert.match(found[0]!.detail, new RegExp(`slot 1: ${rel.id('x')} \\(path gone: ${rel.tree('x')}\\)`))

      const fixed = await doctor(rel, '--fix')
      expectExit(fixed, 0, 'doctor --fix')
      const repairs = fixed.json.repairs as RepairLine[]
      assert.ok(
        repairs.some((r) => r.status === 'fixed' && r.action.includes(`release ghost claim ${rel.id('x')}`)),
        JSON.stringify(repairs),
      )
      assert.deepEqual(registryIds(rel.home), [])
      assert.deepEqual(problems((await doctor(rel)).json), [], 'doctor is clean afterwards')

      expectExit(await rel.run(['impl', 'x']), 0, 'impl x again')
    })

    test('killed right after worktree.create: doctor reports the instance without .env.sandbox, doctor --fix writes it, done --force then impl succeeds', {
      timeout: 240_000,
    }, async (t) => {
      const rel = await relRepo('ktree', { pause: true })
      t.after(() => rel.cleanup())
      const marker = join(rel.dir, 'paused')
      await killImpl(rel, { BERTH_TEST_PAUSE: 'after-worktree', BERTH_TEST_MARKER: marker }, () =>
        until('impl to park after worktree.create', () => existsSync(marker)),
      )
      assert.ok(existsSync(join(rel.tree('x'), '.git')), 'the worktree is there')
      assert.equal(existsSync(join(rel.tree('x'), '.env.sandbox')), false, 'env.write never ran')
      await afterKill(rel)

      const report = await doctor(rel)
      expectExit(report, 0, 'doctor')
      assertKilledImplNamed(report.json, rel)
      const found = problems(report.json)
      assert.deepEqual(
        found.map((c) => c.check),
        ['env file'],
        describeChecks(report.json),
      )
      assert.equal(found[0]!.detail, `${rel.id('x')} has no .env.sandbox at ${rel.tree('x')}`)

      const fixed = await doctor(rel, '--fix')
      expectExit(fixed, 0, 'doctor --fix')
      const envFile = join(rel.tree('x'), '.env.sandbox')
      assert.ok(
        (fixed.json.repairs as RepairLine[]).some(
          (r) => r.status === 'fixed' && r.action.startsWith(`write ${envFile}`),
        ),
        JSON.stringify(fixed.json.repairs),
      )
      const env = readEnvFile(envFile)
      assert.equal(env.INSTANCE_ID, rel.id('x'))
      assert.equal(env.SLOT_NUMBER, '1')
      assert.equal(env.KTRDR_API_PORT, String(rel.block + 1))
      assert.deepEqual(problems((await doctor(rel)).json), [], 'doctor is clean afterwards')

      // The instance is now a whole `impl --no-up` instance: a second impl is refused...
      expectExit(await rel.run(['impl', 'x']), 3, 'impl x while x is registered')
      // ...and `done --force` is the user's tool before starting over.
      expectExit(await rel.run(['done', 'x', '--force']), 0, 'done x --force')
      expectExit(await rel.run(['impl', 'x']), 0, 'impl x again')
    })

    test('killed during compose up: doctor reports the partial stack, doctor --fix leaves a registered instance alone, done --force clears it and impl succeeds', {
      timeout: 240_000,
    }, async (t) => {
      const rel = await relRepo('kup')
      t.after(() => rel.cleanup())
      const id = rel.id('x')
      // db's health stays "starting", so compose waits before it starts backend (v1 has not
      // created backend's container yet; v2 creates every container first, then starts them).
      await killImpl(rel, { BERTH_TEST_HOLD: '1' }, async () => {
        await until(
          'the first container of the stack to run',
          async () => (await projectObjects(id)).containers.some((c) => c.State === 'running'),
          120_000,
          100,
        )
        await new Promise((r) => setTimeout(r, 500))
      })
      const objects = await projectObjects(id)
      assert.deepEqual(
        objects.containers.filter((c) => c.State === 'running').map((c) => c.Labels['com.docker.compose.service']),
        ['db'],
        'compose died before it started backend',
      )
      const created = objects.containers.length
      await afterKill(rel)

      const report = await doctor(rel)
      expectExit(report, 0, 'doctor')
      assertKilledImplNamed(report.json, rel)
      const found = problems(report.json)
      assert.deepEqual(
        found.map((c) => c.check),
        ['instance stack'],
        describeChecks(report.json),
      )
      assert.match(
        found[0]!.detail,
        created === 1
          ? new RegExp(`^${id}: partial, 1/1 container\\(s\\) running; not created: backend`)
          : new RegExp(`^${id}: partial, 1/2 container\\(s\\) running`),
      )

      const fixed = await doctor(rel, '--fix')
      expectExit(fixed, 0, 'doctor --fix')
      const repairs = fixed.json.repairs as RepairLine[]
      assert.deepEqual(
        repairs.filter((r) => r.status === 'fixed' && !r.action.startsWith('remove the lock')),
        [],
        'nothing of a registered instance is removed (only the dead holder’s lock)',
      )
      assert.ok(
        repairs.some((r) => r.status === 'skipped' && r.action.includes(`leave ${id}'s stack alone`)),
        JSON.stringify(repairs),
      )
      assert.equal((await projectObjects(id)).containers.length, created, 'the containers are still there')

      expectExit(await rel.run(['done', 'x', '--force']), 0, 'done x --force')
      assert.deepEqual(await countProjectObjects(id), NO_OBJECTS)
      expectExit(await rel.run(['impl', 'x']), 0, 'impl x again')
    })

    test('killed during the gate: doctor lists the instance with its running stack, berth gate shows it never passed, done --force then impl succeeds', {
      timeout: 240_000,
    }, async (t) => {
      const rel = await relRepo('kgate')
      t.after(() => rel.cleanup())
      const id = rel.id('x')
      // backend looks for its db elsewhere: its health answers 503, so the gate polls until killed.
      await killImpl(rel, { BERTH_TEST_DB_HOST: 'nowhere.invalid' }, async (stderr) => {
        await until('the gate to start', () => /→ gate\.wait/.test(stderr()), 120_000)
        await new Promise((r) => setTimeout(r, 1500))
      })
      await afterKill(rel)

      const report = await doctor(rel)
      expectExit(report, 0, 'doctor')
      assertKilledImplNamed(report.json, rel)
      assert.deepEqual(problems(report.json), [], describeChecks(report.json))
      const stack = checksAbout(report.json, `${id}:`).find((c) => c.check === 'instance stack')
      assert.equal(stack?.detail, `${id}: running, 2/2 container(s) running`)

      const gate = await rel.run(['gate', '--timeout', '2', '--json'], { cwd: rel.tree('x') })
      expectExit(gate, 1, 'gate')
      assert.equal(gate.json.error.code, 'E_GATE')

      expectExit(await rel.run(['done', 'x', '--force']), 0, 'done x --force')
      assert.deepEqual(await countProjectObjects(id), NO_OBJECTS)
      expectExit(await rel.run(['impl', 'x']), 0, 'impl x again')
    })

    test('a berth SIGKILLed while it holds registry.lock leaves the lock behind (mode 0600), and the next impl takes it over at once', {
      timeout: 180_000,
    }, async (t) => {
      const rel = await relRepo('klock')
      t.after(() => rel.cleanup())
      const lock = join(rel.home, 'registry.lock')
      mkdirSync(rel.home, { recursive: true, mode: 0o700 })
      let caught = false
      for (let attempt = 0; attempt < 10 && !caught; attempt++) {
        const impl = spawnBerth(['impl', `l${attempt}`, '--no-up'], { cwd: rel.repo, home: rel.home })
        const watcher = watch(rel.home, (_event, name) => {
          if (name === 'registry.lock' && existsSync(lock)) impl.killGroup()
        })
        await impl.exited
        watcher.close()
        caught = existsSync(lock)
      }
      assert.ok(caught, 'a kill landed while the lock was held')
      assert.equal(statSync(lock).mode & 0o777, 0o600, 'the lock file is 0600')
      const started = Date.now()
      expectExit(await rel.run(['impl', 'z', '--no-up']), 0, 'impl z --no-up')
      assert.ok(Date.now() - started < 20_000, `impl took ${Date.now() - started} ms; the lock timeout is 60 s`)
      assert.equal(existsSync(lock), false, 'the lock is gone again')
      assert.ok(registryIds(rel.home).includes(rel.id('z')))
      assert.equal(statSync(registryFile(rel.home)).mode & 0o777, 0o600, 'registry.json is 0600')
    })
  })

  describe('doctor reconciles the registry with git, the engine and the ports', { concurrency: true }, () => {
    test('an orphan stack whose checkout is gone is reported, planned by --fix --dry-run, removed by --fix; an orphan whose checkout exists is left alone', {
      timeout: 240_000,
    }, async (t) => {
      const rel = await relRepo('orphan')
      t.after(() => rel.cleanup())
      const [o, k] = [rel.id('o'), rel.id('k')]
      expectExit(await rel.run(['impl', 'o']), 0, 'impl o')
      expectExit(await rel.run(['impl', 'k']), 0, 'impl k')
      // o: the user deletes the folder and releases the slot by hand; k: releases the slot only.
      rmSync(rel.tree('o'), { recursive: true, force: true })
      expectExit(await rel.run(['sandbox', 'release', '1']), 0, 'sandbox release 1')
      expectExit(await rel.run(['sandbox', 'release', '2']), 0, 'sandbox release 2')
      assert.deepEqual(registryIds(rel.home), [])

      const report = await doctor(rel)
      expectExit(report, 0, 'doctor')
      const orphans = report.json.checks.filter((c: Check) => c.check === 'orphan stack')
      assert.deepEqual(
        orphans.map((c: Check) => c.detail.split(' ')[2]),
        [k, o],
        `both orphans are reported:\n${describeChecks(report.json)}`,
      )
      assert.match(orphans[1].detail, /2 container\(s\), 2 running; volumes .*_dbdata/)
      const worktrees = report.json.checks.filter((c: Check) => c.check === 'worktree').map((c: Check) => c.detail)
      assert.ok(
        worktrees.includes(`worktree ${rel.tree('k')} on impl/k is not registered with berth`),
        worktrees.join('\n'),
      )
      assert.ok(
        worktrees.includes(`worktree ${rel.tree('o')} on impl/o is gone but still listed by git`),
        worktrees.join('\n'),
      )

      const registryBefore = registryBytes(rel.home)
      const planned = await doctor(rel, '--fix', '--dry-run')
      expectExit(planned, 0, 'doctor --fix --dry-run')
      assert.equal(planned.json.dryRun, true)
      const plan = planned.json.repairs as RepairLine[]
      assert.ok(
        plan.some((r) => r.status === 'planned' && r.action.startsWith(`remove orphan compose project ${o} `)),
        JSON.stringify(plan),
      )
      const keep = plan.find((r) => r.action.startsWith(`leave orphan compose project ${k} alone`))
      assert.equal(keep?.status, 'skipped', JSON.stringify(plan))
      assert.match(keep!.detail!, new RegExp(`its checkout ${rel.tree('k')}.* still exists`))
      assert.equal((await projectObjects(o)).containers.length, 2, '--dry-run removed nothing')
      assert.deepEqual(registryBytes(rel.home), registryBefore)

      const fixed = await doctor(rel, '--fix')
      expectExit(fixed, 0, 'doctor --fix')
      const repairs = fixed.json.repairs as RepairLine[]
      const removed = repairs.find((r) => r.action.startsWith(`remove orphan compose project ${o} `))
      assert.equal(removed?.status, 'fixed', JSON.stringify(repairs))
      assert.match(removed!.detail!, /removed 2 container\(s\), 1 volume\(s\), 1 network\(s\)/)
      assert.deepEqual(await countProjectObjects(o), NO_OBJECTS, `nothing labelled ${o} remains`)
      assert.equal((await projectObjects(k)).containers.length, 2, `${k} is untouched`)
      assert.ok(repairs.some((r) => r.status === 'skipped' && r.action.startsWith(`leave orphan compose project ${k}`)))
    })

    test('a registered worktree that git no longer lists is reported; so is an impl/* worktree made by hand', {
      timeout: 120_000,
    }, async (t) => {
      const rel = await relRepo('wt')
      t.after(() => rel.cleanup())
      expectExit(await rel.run(['impl', 'w', '--no-up']), 0, 'impl w --no-up')
      // git forgets w (its admin folder goes), the folder stays with a dangling .git file.
      rmSync(join(rel.repo, '.git', 'worktrees', `${rel.project}-impl-w`), { recursive: true, force: true })
      await git(rel.repo, 'worktree', 'prune')
      await git(rel.repo, 'worktree', 'add', '-q', '-b', 'impl/hand', join(rel.dir, 'by-hand'))
      const report = await doctor(rel)
      expectExit(report, 0, 'doctor')
      assert.deepEqual(
        problems(report.json)
          .filter((c) => c.check === 'worktree')
          .map((c) => c.detail)
          .sort(),
        [
          `${rel.id('w')} is registered at ${rel.tree('w')}, which git worktree list of ${rel.repo} does not list (and it is not a clone)`,
          `worktree ${join(rel.dir, 'by-hand')} on impl/hand is not registered with berth`,
        ],
        describeChecks(report.json),
      )
      const fixed = await doctor(rel, '--fix')
      assert.ok(existsSync(join(rel.dir, 'by-hand')), 'doctor --fix never removes a worktree')
      assert.deepEqual(registryIds(rel.home), [rel.id('w')])
      expectExit(fixed, 0, 'doctor --fix')
    })

    test('a port stolen between claim and up: up exits 3 naming the holder and starts nothing, doctor names it, and impl rolls back', {
      timeout: 180_000,
    }, async (t) => {
      const rel = await relRepo('steal', { pause: true })
      t.after(() => rel.cleanup())
      const holders: { kill(): void }[] = []
      t.after(() => {
        for (const h of holders) h.kill()
      })
      const hold = async (port: number) => {
        const child = spawn(
          process.execPath,
          ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('ready'))`],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        )
        holders.push(child)
        await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()))
        return child.pid!
      }

      // sandbox up
      expectExit(await rel.run(['impl', 'p', '--no-up']), 0, 'impl p --no-up')
      const port = rel.block + 1
      const pid = await hold(port)
      const registryBefore = registryBytes(rel.home)
      const up = await rel.run(['sandbox', 'up', '--json'], { cwd: rel.tree('p') })
      expectExit(up, 3, 'sandbox up with a stolen port')
      assert.equal(up.json.error.code, 'E_PORT_TAKEN')
      assert.match(up.json.error.message, new RegExp(`KTRDR_API_PORT ${port} held by pid ${pid} \\(.*node`))
      assert.deepEqual(await countProjectObjects(rel.id('p')), NO_OBJECTS, 'nothing started')
      assert.deepEqual(registryBytes(rel.home), registryBefore, 'the registry is as it was')
      const report = await doctor(rel)
      const held = problems(report.json).filter((c) => c.check === 'slot ports')
      assert.equal(held.length, 1, describeChecks(report.json))
      assert.match(
        held[0]!.detail,
        new RegExp(`slot 1 \\(${rel.id('p')}\\): KTRDR_API_PORT ${port} held by pid ${pid}`),
      )

      // impl: the port goes while impl is parked after its claim
      const marker = join(rel.dir, 'paused')
      ourProjects.add(rel.id('q'))
      const impl = spawnBerth(['impl', 'q'], {
        cwd: rel.repo,
        home: rel.home,
        env: { BERTH_TEST_PAUSE: 'after-claim', BERTH_TEST_MARKER: marker },
      })
      await until('impl q to park after its claim', () => existsSync(marker))
      const slot = JSON.parse(readFileSync(registryFile(rel.home), 'utf8')).instances.find(
        (r: { id: string }) => r.id === rel.id('q'),
      ).slot as number
      const qPid = await hold(rel.block + slot)
      writeFileSync(`${marker}.go`, '')
      assert.equal(await impl.exited, 3, impl.stderr())
      assert.match(impl.stderr(), new RegExp(`held by pid ${qPid}`))
      assert.ok(!registryIds(rel.home).includes(rel.id('q')), 'the claim is undone')
      assert.equal(existsSync(rel.tree('q')), false, 'the worktree is removed')
      assert.equal(await branchExists(rel.repo, 'impl/q'), false, 'the branch impl made is gone')
      assert.deepEqual(await countProjectObjects(rel.id('q')), NO_OBJECTS)
    })

    test('done, sandbox destroy and local-prod destroy --dry-run print the plan and change nothing', {
      timeout: 120_000,
    }, async (t) => {
      const rel = await relRepo('dry')
      t.after(() => rel.cleanup())
      expectExit(await rel.run(['impl', 'd', '--no-up']), 0, 'impl d --no-up')
      const clone = join(rel.dir, `${rel.project}-prod`)
      await execFileAsync('git', ['clone', '-q', join(rel.dir, 'origin.git'), clone])
      expectExit(await rel.run(['local-prod', 'init'], { cwd: clone }), 0, 'local-prod init')
      const before = registryBytes(rel.home)
      for (const [args, cwd, steps] of [
        [['done', 'd', '--force'], rel.repo, ['compose.destroy', 'worktree.remove', 'registry.release']],
        [['sandbox', 'destroy', '--force'], rel.tree('d'), ['compose.destroy', 'worktree.remove', 'registry.release']],
        [['local-prod', 'destroy'], clone, ['compose.destroy', 'registry.release']],
      ] as const) {
        const result = expectExit(await rel.run([...args, '--dry-run', '--json'], { cwd }), 0, args.join(' '))
        const plan = result.json.plan as { step: string; action: string }[]
        for (const step of steps)
          assert.ok(
            plan.some((p) => p.step === step && p.action.length > 0),
            JSON.stringify(plan),
          )
        const human = expectExit(await rel.run([...args, '--dry-run'], { cwd }), 0, args.join(' '))
        assert.match(human.stdout + human.stderr, /compose project/, 'the plan is printed for humans too')
      }
      assert.deepEqual(registryBytes(rel.home), before, 'the registry is unchanged')
      assert.ok(existsSync(join(rel.tree('d'), '.env.sandbox')), 'the worktree and its env file are there')
      assert.ok(existsSync(join(clone, '.env.sandbox')))
    })
  })
})
