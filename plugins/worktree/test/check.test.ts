import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { isBerthError } from '@berth/contract'
import { workState, worktreePlugin } from '../src/index.js'
import { makeContext, recordFor, repoInfo } from './helpers/context.js'
import { type GitFixture, gitFixture } from './helpers/git-fixture.js'

const check = worktreePlugin().steps.check!

function exitCodeOf(error: unknown): number | undefined {
  return isBerthError(error) ? error.exitCode : undefined
}

describe('worktree.check and workState', () => {
  let fx: GitFixture
  let path: string
  beforeEach(() => {
    fx = gitFixture()
    path = join(fx.dir, 'acme-impl-x')
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/x', path, 'origin/main', '--no-track')
  })
  afterEach(() => fx.cleanup())

  function checkContext(flags: Record<string, boolean> = {}, overrides: Parameters<typeof recordFor>[2] = {}) {
    return makeContext({
      task: 'done',
      cwd: fx.repo,
      repo: repoInfo(fx.repo),
      flags,
      instance: recordFor(path, fx.repo, overrides),
    })
  }

  test('a fresh worktree has nothing dirty and nothing unpushed', async () => {
    const state = await workState(path)
    assert.deepEqual(state, {
      dirty: [],
      unpushed: [],
      upstream: null,
      upstreamGone: false,
      branch: 'impl/x',
      baseBranch: 'main',
    })
    const { ctx } = checkContext()
    await check.run(ctx)
    assert.deepEqual(ctx.output.workState, { dirty: [], unpushed: [], upstream: null })
  })

  test('refuses with exit 3 listing uncommitted files, untracked ones included', async () => {
    writeFileSync(join(path, 'README.md'), 'edited\n')
    writeFileSync(join(path, 'notes.txt'), 'new\n')
    mkdirSync(join(path, 'drafts'))
    writeFileSync(join(path, 'drafts', 'a b.md'), 'new\n')
    const { ctx } = checkContext()
    await assert.rejects(Promise.resolve(check.run(ctx)), (error) => {
      assert.equal(exitCodeOf(error), 3)
      const message = (error as Error).message
      assert.match(message, /uncommitted changes \(3\)/)
      assert.match(message, / M README\.md/)
      assert.match(message, /\?\? notes\.txt/)
      assert.match(message, /\?\? drafts\//)
      assert.match(isBerthError(error) ? (error.hint ?? '') : '', /--force/)
      return true
    })
  })

  test('lists a staged rename as old -> new', async () => {
    fx.git(path, 'mv', 'README.md', 'READ.md')
    assert.deepEqual((await workState(path)).dirty, ['R  README.md -> READ.md'])
  })

  test('refuses with exit 3 listing a local commit that was never pushed', async () => {
    const sha = fx.commit(path, 'feature.txt', 'add the feature')
    const { ctx } = checkContext()
    await assert.rejects(Promise.resolve(check.run(ctx)), (error) => {
      assert.equal(exitCodeOf(error), 3)
      assert.match(
        (error as Error).message,
        new RegExp(`unpushed commits on impl/x \\(1\\):\\n\\s+${sha.slice(0, 12)} add the feature`),
      )
      assert.deepEqual((error as { details?: { unpushed: unknown } }).details?.unpushed, [
        { sha, subject: 'add the feature' },
      ])
      return true
    })
  })

  test('passes a branch whose commits are pushed to its upstream', async () => {
    fx.commit(path, 'feature.txt', 'add the feature')
    fx.git(path, 'push', '--quiet', '-u', 'origin', 'impl/x')
    const state = await workState(path)
    assert.equal(state.upstream, 'origin/impl/x')
    assert.deepEqual(state.unpushed, [])
    const { ctx } = checkContext()
    await check.run(ctx)
  })

  test('reports only the commits made after the last push', async () => {
    fx.commit(path, 'feature.txt', 'pushed work')
    fx.git(path, 'push', '--quiet', '-u', 'origin', 'impl/x')
    const later = fx.commit(path, 'more.txt', 'local work')
    assert.deepEqual((await workState(path)).unpushed, [{ sha: later, subject: 'local work' }])
  })

  test('passes a branch with NO upstream whose commits are all merged into main', async () => {
    fx.commit(path, 'feature.txt', 'add the feature')
    fx.git(fx.repo, 'merge', '--quiet', '--no-ff', '-m', 'merge impl/x', 'impl/x')
    fx.git(fx.repo, 'push', '--quiet', 'origin', 'main')
    const state = await workState(path)
    assert.equal(state.upstream, null)
    assert.deepEqual(state.unpushed, [])
    const { ctx } = checkContext()
    await check.run(ctx)
  })

  test('passes a branch merged into the local main only (nothing is lost)', async () => {
    fx.commit(path, 'feature.txt', 'add the feature')
    fx.git(fx.repo, 'merge', '--quiet', '--ff-only', 'impl/x')
    assert.deepEqual((await workState(path, { baseBranch: 'main' })).unpushed, [])
  })

  test('measures a branch whose upstream was deleted after merging against main', async () => {
    fx.commit(path, 'feature.txt', 'add the feature')
    fx.git(path, 'push', '--quiet', '-u', 'origin', 'impl/x')
    fx.git(fx.repo, 'merge', '--quiet', '--ff-only', 'impl/x')
    fx.git(fx.repo, 'push', '--quiet', 'origin', 'main', ':impl/x')
    fx.git(fx.repo, 'fetch', '--quiet', '--prune', 'origin')
    const state = await workState(path)
    assert.equal(state.upstreamGone, true)
    assert.deepEqual(state.unpushed, [])
  })

  test('--force lets dirty and unpushed work through, with a warning listing it', async () => {
    writeFileSync(join(path, 'notes.txt'), 'new\n')
    fx.commit(path, 'feature.txt', 'add the feature')
    const { ctx, logs } = checkContext({ force: true })
    await check.run(ctx)
    const warning = logs.find((line) => line.level === 'warn')?.message ?? ''
    assert.match(warning, /notes\.txt/)
    assert.match(warning, /add the feature/)
  })

  test('refuses a worktree berth did not create unless --force', async () => {
    const { ctx } = checkContext({}, { createdByBerth: false })
    await assert.rejects(Promise.resolve(check.run(ctx)), (error) => {
      assert.equal(exitCodeOf(error), 3)
      assert.match((error as Error).message, /berth did not create/)
      return true
    })
    const forced = checkContext({ force: true }, { createdByBerth: false })
    await check.run(forced.ctx)
  })

  test('logs and passes when the recorded path no longer exists', async () => {
    rmSync(path, { recursive: true, force: true })
    const { ctx, logs } = checkContext()
    await check.run(ctx)
    assert.ok(logs.some((line) => /no longer exists: nothing to check/.test(line.message)))
  })

  test('counts every commit as unpushed in a detached worktree with no remote or base to compare with', async () => {
    fx.cleanup()
    fx = gitFixture({ remote: false })
    path = join(fx.dir, 'acme-impl-x')
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '--detach', path)
    const state = await workState(path, { baseBranch: null })
    assert.equal(state.branch, null)
    assert.equal(state.unpushed.length, 1)
    assert.deepEqual((await workState(path, { baseBranch: 'main' })).unpushed, [])
  })
})
