import assert from 'node:assert/strict'
import { mkdirSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { isBerthError } from '@berth/contract'
import { assertSafePath, worktreePlugin } from '../src/index.js'
import { makeContext, recordFor, repoInfo } from './helpers/context.js'
import { type GitFixture, gitFixture } from './helpers/git-fixture.js'

const plugin = worktreePlugin()
const check = plugin.steps.check!
const remove = plugin.steps.remove!

/** Asserts an unsafe-path refusal (exit 3, E_UNSAFE_PATH) whose message matches `reason`. */
function unsafe(reason: RegExp) {
  return (error: unknown) => {
    assert.ok(isBerthError(error), String(error))
    assert.equal(error.exitCode, 3)
    assert.equal(error.code, 'E_UNSAFE_PATH')
    assert.match(error.message, reason)
    return true
  }
}

describe('removal guards (they hold even with --force)', () => {
  let fx: GitFixture
  beforeEach(() => {
    fx = gitFixture()
  })
  afterEach(() => fx.cleanup())

  async function refusedByBothSteps(path: string, reason: RegExp, worktree?: unknown) {
    for (const step of [check, remove]) {
      const { ctx } = makeContext({
        task: 'done',
        cwd: fx.repo,
        repo: repoInfo(fx.repo),
        flags: { force: true },
        instance: recordFor(path, fx.repo),
        worktree,
      })
      await assert.rejects(Promise.resolve(step.run(ctx)), unsafe(reason))
    }
  }

  test('refuses the main checkout itself', async () => {
    await refusedByBothSteps(fx.repo, /is the main checkout/)
    await refusedByBothSteps(`${fx.repo}/.`, /is the main checkout/)
  })

  test('refuses a folder that contains the main checkout', async () => {
    await refusedByBothSteps(fx.dir, /main checkout/, { parent: '/' })
  })

  test('refuses a worktree outside the configured parent folder', async () => {
    const outside = join(fx.dir, 'elsewhere', 'acme-impl-x')
    mkdirSync(join(fx.dir, 'elsewhere'))
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/x', outside)
    await refusedByBothSteps(outside, /not inside the worktree parent folder/, { parent: join(fx.dir, 'trees') })
  })

  test('refuses a path that climbs out of the parent with ..', async () => {
    const outside = join(fx.dir, 'elsewhere', 'acme-impl-x')
    mkdirSync(join(fx.dir, 'trees'))
    mkdirSync(join(fx.dir, 'elsewhere'))
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/x', outside)
    await refusedByBothSteps(join(fx.dir, 'trees', '..', 'elsewhere', 'acme-impl-x'), /not inside/, {
      parent: join(fx.dir, 'trees'),
    })
  })

  test('refuses a symlink inside the parent that points outside it', async () => {
    const outside = join(fx.dir, 'elsewhere', 'acme-impl-x')
    mkdirSync(join(fx.dir, 'trees'))
    mkdirSync(join(fx.dir, 'elsewhere'))
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/x', outside)
    const link = join(fx.dir, 'trees', 'acme-impl-x')
    symlinkSync(outside, link)
    await refusedByBothSteps(link, /it resolves to .*elsewhere/, { parent: join(fx.dir, 'trees') })
  })

  test('refuses a folder holding another repository', async () => {
    const stranger = join(fx.dir, 'acme-impl-stranger')
    fx.git(fx.dir, 'init', '--quiet', '-b', 'main', stranger)
    fx.commit(stranger, 'x.txt', 'not ours')
    await refusedByBothSteps(stranger, /clone of another repository/)
  })

  test('refuses a worktree of another repository', async () => {
    const other = gitFixture({ remote: false })
    try {
      const foreign = join(fx.dir, 'acme-impl-foreign')
      fx.git(other.repo, 'worktree', 'add', '--quiet', '-b', 'impl/foreign', foreign)
      await refusedByBothSteps(foreign, /worktree of another repository/)
    } finally {
      other.cleanup()
    }
  })

  test('refuses a plain folder and a subfolder of a worktree', async () => {
    const plain = join(fx.dir, 'acme-impl-plain')
    mkdirSync(plain)
    await refusedByBothSteps(plain, /not a git worktree or clone/)
    const tree = join(fx.dir, 'acme-impl-x')
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/x', tree)
    mkdirSync(join(tree, 'src'))
    await refusedByBothSteps(join(tree, 'src'), /not a git worktree or clone/)
  })

  test('refuses a relative recorded path', async () => {
    await refusedByBothSteps('acme-impl-x', /not an absolute path/)
  })

  test('accepts a worktree of this repository inside the parent, reached through a symlinked parent', async () => {
    const tree = join(fx.dir, 'acme-impl-x')
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/x', tree)
    const alias = join(fx.dir, 'alias')
    symlinkSync(fx.dir, alias)
    const safe = await assertSafePath({ path: join(alias, 'acme-impl-x'), repoRoot: fx.repo, parent: alias })
    assert.deepEqual(safe, { path: join(alias, 'acme-impl-x'), realPath: tree, exists: true, checkout: 'worktree' })
  })

  test('accepts a clone of the same origin and a clone of the main checkout', async () => {
    const sameOrigin = join(fx.dir, 'acme--stream-b')
    fx.git(fx.dir, 'clone', '--quiet', fx.origin, sameOrigin)
    assert.equal((await assertSafePath({ path: sameOrigin, repoRoot: fx.repo, parent: fx.dir })).checkout, 'clone')
    const ofMain = join(fx.dir, 'acme--local')
    fx.git(fx.dir, 'clone', '--quiet', fx.repo, ofMain)
    assert.equal((await assertSafePath({ path: ofMain, repoRoot: fx.repo, parent: fx.dir })).checkout, 'clone')
  })
})
