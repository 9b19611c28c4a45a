/**
 * Interrupts that leave nothing (issue 15), through the real CLI on real git and the real engine:
 * Ctrl-C / SIGTERM to `berth impl` — to berth alone or to its whole process group — while git
 * creates the worktree and a slow post-checkout hook runs; a second interrupt during the rollback
 * (which berth finishes), a third (berth stops, records what is left; `doctor --fix` finishes the
 * rollback, or — while some of the stack is left — names `berth done`, which does). Afterwards `impl` of the same name succeeds with exactly one worktree, and no
 * process that `impl` started is still running.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { buildDemoImages, countProjectObjects, engine, removeProject } from './helpers/demo.js'
import { git } from './helpers/index.js'
import {
  expectExit,
  ourProjects,
  type RelRepo,
  registryIds,
  relRepo,
  spawnBerth,
  until,
} from './reliability-fixtures.js'

const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }

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

/** Every process whose command line contains `needle` (read from /proc). */
function processesWith(needle: string): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (argv.includes(needle)) found.push(`${pid}: ${argv}`)
    } catch {
      // gone
    }
  }
  return found
}

/**
 * A post-checkout hook that, while `<dir>/slow-hook` exists, marks that it started and then
 * writes into the new worktree for a minute (a slow checkout of a big repository, in effect).
 */
function slowHook(dir: string, tag: string): string {
  return `#!/bin/sh
[ -f "${dir}/slow-hook" ] || exit 0
echo "$$" > "${dir}/hook-started"
i=0
while [ $i -lt 600 ]; do echo $i >> hook-output-${tag}.txt; sleep 0.1; i=$((i+1)); done
echo done > "${dir}/hook-finished"
`
}

async function worktreesOf(rel: RelRepo): Promise<string[]> {
  return (await git(rel.repo, 'worktree', 'list', '--porcelain'))
    .split('\n')
    .filter((line) => line.startsWith('worktree '))
    .map((line) => line.slice('worktree '.length))
}

async function branchesOf(rel: RelRepo): Promise<string[]> {
  return (await git(rel.repo, 'branch', '--format=%(refname:short)')).split('\n').filter(Boolean).sort()
}

describe('interrupts leave nothing behind', { concurrency: true }, () => {
  for (const [label, signal, target] of [
    ['SIGINT to berth alone', 'SIGINT', 'berth'],
    ['SIGINT to its process group (Ctrl-C)', 'SIGINT', 'group'],
    ['SIGTERM to berth alone', 'SIGTERM', 'berth'],
  ] as const) {
    test(`${label} while git creates the worktree with a slow post-checkout hook: exit 130, nothing left, no process running, impl x then succeeds`, {
      timeout: 240_000,
    }, async (t) => {
      const rel = await relRepo(`int-${signal.toLowerCase()}-${target}`)
      t.after(() => rel.cleanup())
      const tag = `${rel.project}-${target}`
      writeFileSync(join(rel.repo, '.git', 'hooks', 'post-checkout'), slowHook(rel.dir, tag), { mode: 0o755 })
      writeFileSync(join(rel.dir, 'slow-hook'), '')
      const branches = await branchesOf(rel)

      const impl = spawnBerth(['impl', 'x', '--no-up'], { cwd: rel.repo, home: rel.home })
      await until('the post-checkout hook to start', () => existsSync(join(rel.dir, 'hook-started')), 60_000)
      if (target === 'group') process.kill(-(impl.child.pid as number), signal)
      else impl.child.kill(signal)
      const code = await impl.exited
      assert.equal(code, 130, `impl exits 130\n${impl.stderr()}`)
      assert.match(impl.stderr(), new RegExp(`interrupted \\(${signal}\\) during worktree\\.create`))
      assert.match(impl.stderr(), /rolled back registry\.claim(, profiles\.select)?; nothing is left behind/)

      // nothing is left: no hook still running, no worktree, no branch, no claim, no folder
      const hookPid = readFileSync(join(rel.dir, 'hook-started'), 'utf8').trim()
      assert.equal(existsSync(`/proc/${hookPid}`), false, `the hook (pid ${hookPid}) is gone`)
      assert.deepEqual(processesWith(join(rel.repo, '.git', 'hooks', 'post-checkout')), [])
      await new Promise((resolve) => setTimeout(resolve, 1000))
      assert.equal(existsSync(join(rel.dir, 'hook-finished')), false, 'the hook was stopped')
      assert.equal(existsSync(rel.tree('x')), false, 'no worktree folder')
      assert.deepEqual(await worktreesOf(rel), [rel.repo])
      assert.deepEqual(await branchesOf(rel), branches, 'no branch')
      assert.deepEqual(registryIds(rel.home), [], 'no claim')
      const doctor = expectExit(await rel.run(['doctor', '--json']), 0, 'doctor')
      const about = doctor.json.checks.filter(
        (c: { status: string; detail: string }) =>
          c.status !== 'ok' && (c.detail.includes(rel.id('x')) || c.detail.includes(rel.tree('x'))),
      )
      assert.deepEqual(about, [], 'doctor finds nothing left of x')

      rmSync(join(rel.dir, 'slow-hook'))
      expectExit(await rel.run(['impl', 'x', '--no-up']), 0, 'impl x again')
      assert.deepEqual(await worktreesOf(rel), [rel.repo, rel.tree('x')], 'exactly one worktree for x')
      assert.deepEqual(registryIds(rel.home), [rel.id('x')])
    })
  }

  test('a second Ctrl-C during the rollback does not abandon it; a third stops at once, and doctor --fix (or the berth done it names) finishes it', {
    timeout: 300_000,
  }, async (t) => {
    // The gate never passes (backend points at no db), so impl x waits in gate.wait with a stack up.
    const rel = await relRepo('int-again')
    t.after(() => rel.cleanup())
    const env = { BERTH_TEST_DB_HOST: 'nowhere.invalid' }
    const branches = await branchesOf(rel)

    // 1. Interrupted in the gate, then again during the rollback: berth finishes it.
    const first = spawnBerth(['impl', 'x', '--verbose'], { cwd: rel.repo, home: rel.home, env })
    await until('the gate to start', () => /→ gate\.wait/.test(first.stderr()), 180_000)
    first.child.kill('SIGINT')
    await until('the rollback to start', () => /✖ gate\.wait/.test(first.stderr()), 60_000)
    first.child.kill('SIGINT')
    assert.equal(await first.exited, 130, first.stderr())
    assert.match(first.stderr(), /interrupted again: berth is rolling back so that nothing is left behind/)
    assert.match(
      first.stderr(),
      /interrupted \(SIGINT\) during gate\.wait; rolled back compose\.up, secrets\.load, env\.write, worktree\.create, registry\.claim(, profiles\.select)?; nothing is left behind/,
    )
    assert.deepEqual(registryIds(rel.home), [])
    assert.equal(existsSync(rel.tree('x')), false)
    assert.deepEqual(await branchesOf(rel), branches)
    assert.deepEqual(await countProjectObjects(rel.id('x')), NO_OBJECTS)

    // 2. Three interrupts: berth stops at once, names what is left and records it.
    const second = spawnBerth(['impl', 'x', '--verbose'], { cwd: rel.repo, home: rel.home, env })
    await until('the gate to start', () => /→ gate\.wait/.test(second.stderr()), 180_000)
    second.child.kill('SIGINT')
    await until('the rollback to start', () => /✖ gate\.wait/.test(second.stderr()), 60_000)
    second.child.kill('SIGINT')
    await until('berth to say it keeps rolling back', () => /interrupted again/.test(second.stderr()), 10_000)
    second.child.kill('SIGINT')
    assert.equal(await second.exited, 130, second.stderr())
    assert.match(
      second.stderr(),
      /during the rollback; left behind by \S*impl-x \(.*\): (compose\.up, )?(secrets\.load, )?(env\.write, )?worktree\.create, registry\.claim/,
    )
    assert.match(second.stderr(), /berth doctor --fix/)

    const doctor = expectExit(await rel.run(['doctor', '--json']), 0, 'doctor')
    const interrupted = doctor.json.checks.filter((c: { check: string }) => c.check === 'interrupted operation')
    assert.equal(interrupted.length, 1, JSON.stringify(doctor.json.checks))
    assert.match(interrupted[0].detail, /berth impl x .* was stopped during its rollback/)
    // The `compose down` berth was running when it stopped goes on alone in its own process group
    // (or stops with berth's closed output); let it end either way.
    await until('compose to end', () => processesWith(`-p ${rel.id('x')}`).length === 0, 60_000, 200)
    const fix = expectExit(await rel.run(['doctor', '--fix', '--json']), 0, 'doctor --fix')
    const repairs = fix.json.repairs as { action: string; status: string; detail?: string }[]
    const finish = repairs.find((r) => r.action.startsWith('finish the rollback of berth impl x'))
    assert.ok(finish, JSON.stringify(repairs))
    if (finish.status === 'fixed') {
      // Nothing of the stack was left: doctor --fix released the claim and removed the clean worktree.
      assert.ok(
        repairs.some(
          (r) => r.status === 'fixed' && r.action.startsWith(`remove unregistered worktree ${rel.tree('x')}`),
        ),
        JSON.stringify(repairs),
      )
    } else {
      // Some of the stack was left: doctor --fix keeps the claim and names the command that finishes it.
      assert.equal(finish.status, 'skipped')
      assert.match(finish.detail ?? '', new RegExp(`'berth done ${rel.id('x')}' removes everything`))
      expectExit(await rel.run(['done', 'x']), 0, 'done x')
    }
    assert.deepEqual(registryIds(rel.home), [])
    assert.equal(existsSync(rel.tree('x')), false)
    assert.deepEqual(await countProjectObjects(rel.id('x')), NO_OBJECTS)
    assert.deepEqual(
      (await rel.run(['doctor', '--json'])).json.checks.filter(
        (c: { check: string }) => c.check === 'interrupted operation',
      ),
      [],
      'nothing interrupted is left',
    )

    // 3. Then impl x succeeds, with exactly one worktree.
    expectExit(await rel.run(['impl', 'x']), 0, 'impl x after doctor --fix')
    assert.deepEqual(await worktreesOf(rel), [rel.repo, rel.tree('x')])
  })
})
