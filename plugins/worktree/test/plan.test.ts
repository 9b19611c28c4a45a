import assert from 'node:assert/strict'
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { isBerthError } from '@berth/contract'
import { planWorktree, worktreePlugin } from '../src/index.js'
import { makeContext, repoInfo } from './helpers/context.js'
import { type GitFixture, gitFixture } from './helpers/git-fixture.js'

const plan = worktreePlugin().steps.plan!

function exitCodeOf(error: unknown): number | undefined {
  return isBerthError(error) ? error.exitCode : undefined
}

describe('worktree.plan', () => {
  let fx: GitFixture
  before(() => {
    fx = gitFixture()
  })
  after(() => fx.cleanup())

  for (const bad of ['../../etc', '', 'a b', '/a', 'a/', 'a//b', 'a/.x', '..', 'x\\y', 'ends-with.', 'x.lock']) {
    test(`rejects the name ${JSON.stringify(bad)} with exit 2 and creates nothing`, async () => {
      const before = { files: readdirSync(fx.dir).sort(), worktrees: fx.git(fx.repo, 'worktree', 'list') }
      const { ctx } = makeContext({
        task: 'impl',
        cwd: fx.repo,
        repo: repoInfo(fx.repo),
        request: { name: bad, kind: 'impl' },
      })
      await assert.rejects(Promise.resolve(plan.run(ctx)), (error) => exitCodeOf(error) === 2)
      assert.equal(ctx.instance, undefined)
      assert.deepEqual(readdirSync(fx.dir).sort(), before.files)
      assert.equal(fx.git(fx.repo, 'worktree', 'list'), before.worktrees)
      assert.equal(fx.git(fx.repo, 'branch', '--list', 'impl/*'), '')
    })
  }

  test('plans ../<project>-impl-<slug> on impl/<name as typed> and sets the instance with no slot', async () => {
    const { ctx } = makeContext({
      task: 'impl',
      cwd: fx.repo,
      repo: repoInfo(fx.repo),
      request: { name: 'My-Feature', kind: 'impl' },
    })
    await plan.run(ctx)
    assert.deepEqual(
      { ...ctx.instance, createdAt: undefined },
      {
        id: 'acme-impl-my-feature',
        name: 'My-Feature',
        project: 'acme',
        kind: 'impl',
        slot: null,
        path: join(fx.dir, 'acme-impl-my-feature'),
        repo: fx.repo,
        branch: 'impl/My-Feature',
        branchCreatedByBerth: true,
        createdByBerth: true,
        createdAt: undefined,
      },
    )
    assert.ok(!Number.isNaN(Date.parse(ctx.instance!.createdAt)))
    assert.equal((ctx.state.worktree as { plan: { branch: string } }).plan.branch, 'impl/My-Feature')
    assert.deepEqual(readdirSync(fx.dir).sort(), ['acme', 'origin.git'])
  })

  test("plans genome/M1 as ../acme-impl-genome-m1 on impl/genome-M1, the original tool's <feature>/<milestone>", async () => {
    const { ctx } = makeContext({
      task: 'impl',
      cwd: fx.repo,
      repo: repoInfo(fx.repo),
      request: { name: 'genome/M1', kind: 'impl' },
    })
    await plan.run(ctx)
    assert.equal(ctx.instance?.id, 'acme-impl-genome-m1')
    assert.equal(ctx.instance?.name, 'genome/M1')
    assert.equal(ctx.instance?.path, join(fx.dir, 'acme-impl-genome-m1'))
    assert.equal(ctx.instance?.branch, 'impl/genome-M1')
  })

  test('plans spec worktrees from the task name when the request has no kind', async () => {
    const { ctx } = makeContext({ task: 'spec', cwd: fx.repo, repo: repoInfo(fx.repo), positionals: ['design'] })
    await plan.run(ctx)
    assert.equal(ctx.instance?.path, join(fx.dir, 'acme-spec-design'))
    assert.equal(ctx.instance?.branch, 'spec/design')
  })

  test('puts worktrees in the configured parent folder, relative to the config root', async () => {
    const { ctx } = makeContext({
      task: 'impl',
      cwd: fx.repo,
      root: fx.repo,
      repo: repoInfo(fx.repo),
      request: { name: 'x', kind: 'impl' },
      worktree: { parent: '../trees' },
    })
    await plan.run(ctx)
    assert.equal(ctx.instance?.path, join(fx.dir, 'trees', 'acme-impl-x'))
  })

  test('refuses with exit 3 naming the folder when the path already exists', async () => {
    const taken = join(fx.dir, 'acme-impl-taken')
    mkdirSync(taken)
    const { ctx } = makeContext({
      task: 'impl',
      cwd: fx.repo,
      repo: repoInfo(fx.repo),
      request: { name: 'taken', kind: 'impl' },
    })
    await assert.rejects(Promise.resolve(plan.run(ctx)), (error) => {
      assert.equal(exitCodeOf(error), 3)
      assert.match((error as Error).message, /acme-impl-taken already exists/)
      return true
    })
  })

  test('treats a dangling symlink at the path as taken', () => {
    symlinkSync(join(fx.dir, 'nowhere'), join(fx.dir, 'acme-impl-dangling'))
    assert.throws(
      () => planWorktree({ name: 'dangling', kind: 'impl', project: 'acme', parent: fx.dir }),
      (error) => exitCodeOf(error) === 3,
    )
  })

  test('slugs the project name for the folder and refuses one that slugs to nothing', () => {
    const planned = planWorktree({ name: 'x', kind: 'spec', project: 'Acme Shop', parent: '/srv' })
    assert.equal(planned.path, '/srv/acme-shop-spec-x')
    assert.equal(planned.id, 'acme-shop-spec-x')
    assert.throws(
      () => planWorktree({ name: 'x', kind: 'spec', project: '///', parent: '/srv' }),
      (error) => exitCodeOf(error) === 2,
    )
  })

  test('refuses a task that is neither spec nor impl with exit 2', async () => {
    const { ctx } = makeContext({ task: 'sandbox.init', cwd: fx.repo, repo: repoInfo(fx.repo), request: { name: 'x' } })
    await assert.rejects(Promise.resolve(plan.run(ctx)), (error) => exitCodeOf(error) === 2)
  })
})
