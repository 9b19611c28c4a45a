import assert from 'node:assert/strict'
import { existsSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { isBerthError } from '@berth/contract'
import { removeWorktree, worktreePlugin } from '../src/index.js'
import { makeContext, recordFor } from './helpers/context.js'
import { type GitFixture, gitFixture } from './helpers/git-fixture.js'

const remove = worktreePlugin().steps.remove!

describe('worktree.remove', () => {
  let fx: GitFixture
  let path: string
  beforeEach(() => {
    fx = gitFixture()
    path = join(fx.dir, 'acme-impl-x')
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/x', path)
  })
  afterEach(() => fx.cleanup())

  function removeContext(flags: Record<string, boolean> = {}, overrides: Parameters<typeof recordFor>[2] = {}) {
    return makeContext({
      task: 'done',
      cwd: path, // the cwd is the worktree itself: removal must not depend on it
      repo: { root: fx.repo, checkout: path, isWorktree: true },
      flags,
      instance: recordFor(path, fx.repo, overrides),
    })
  }

  test('removes the worktree, prunes its entry and keeps the branch', async () => {
    const tip = fx.commit(path, 'feature.txt', 'feature work')
    const { ctx, logs } = removeContext()
    await remove.run(ctx)
    assert.equal(existsSync(path), false)
    assert.doesNotMatch(fx.git(fx.repo, 'worktree', 'list', '--porcelain'), /acme-impl-x/)
    assert.equal(existsSync(join(fx.repo, '.git', 'worktrees', 'acme-impl-x')), false)
    assert.equal(fx.git(fx.repo, 'rev-parse', 'impl/x'), tip)
    assert.deepEqual(ctx.output.removed, { path, removed: true, checkout: 'worktree' })
    assert.ok(logs.some((line) => /branch impl\/x kept/.test(line.message)))
  })

  test('is idempotent: a second run finds nothing and succeeds', async () => {
    await remove.run(removeContext().ctx)
    const { ctx } = removeContext()
    await remove.run(ctx)
    assert.deepEqual(ctx.output.removed, { path, removed: false, checkout: null })
  })

  test('prunes the stale entry of a worktree folder deleted by hand', async () => {
    rmSync(path, { recursive: true, force: true })
    assert.match(fx.git(fx.repo, 'worktree', 'list', '--porcelain'), /prunable/)
    await remove.run(removeContext().ctx)
    assert.doesNotMatch(fx.git(fx.repo, 'worktree', 'list', '--porcelain'), /acme-impl-x/)
  })

  test('refuses a dirty worktree without --force (git refuses too) and removes it with --force', async () => {
    writeFileSync(join(path, 'notes.txt'), 'unsaved\n')
    await assert.rejects(
      Promise.resolve(remove.run(removeContext().ctx)),
      (error) => isBerthError(error) && error.exitCode === 3,
    )
    assert.ok(existsSync(join(path, 'notes.txt')))
    await remove.run(removeContext({ force: true }).ctx)
    assert.equal(existsSync(path), false)
  })

  test('refuses a locked worktree without --force and removes it with --force', async () => {
    fx.git(fx.repo, 'worktree', 'lock', '--reason', 'on a usb stick', path)
    await assert.rejects(
      Promise.resolve(remove.run(removeContext().ctx)),
      (error) => isBerthError(error) && error.code === 'E_LOCKED',
    )
    await remove.run(removeContext({ force: true }).ctx)
    assert.equal(existsSync(path), false)
  })

  test('refuses to delete a worktree berth did not create unless --force', async () => {
    await assert.rejects(
      Promise.resolve(remove.run(removeContext({}, { createdByBerth: false }).ctx)),
      (error) => isBerthError(error) && error.code === 'E_NOT_CREATED_BY_BERTH',
    )
    assert.ok(existsSync(path))
  })

  test('deletes a clone berth created, and only that', async () => {
    const clone = join(fx.dir, 'acme--stream-b')
    fx.git(fx.dir, 'clone', '--quiet', fx.origin, clone)
    const common = { repoRoot: fx.repo, parent: fx.dir, path: clone, force: false }
    await assert.rejects(
      removeWorktree({ ...common, createdByBerth: false }),
      (error) => isBerthError(error) && error.exitCode === 3,
    )
    assert.ok(existsSync(clone))
    assert.deepEqual(await removeWorktree({ ...common, createdByBerth: true }), {
      path: clone,
      removed: true,
      checkout: 'clone',
    })
    assert.equal(existsSync(clone), false)
    assert.ok(existsSync(fx.repo))
  })
})
