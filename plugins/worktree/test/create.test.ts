import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, test } from 'node:test'
import { isBerthError, type TaskContext } from '@berth/contract'
import { createWorktree, worktreePlugin } from '../src/index.js'
import { type LogLine, makeContext, repoInfo } from './helpers/context.js'
import { advanceOrigin, type GitFixture, gitFixture } from './helpers/git-fixture.js'

const plugin = worktreePlugin()
const plan = plugin.steps.plan!
const create = plugin.steps.create!

function exitCodeOf(error: unknown): number | undefined {
  return isBerthError(error) ? error.exitCode : undefined
}

/** What undo must leave exactly as it was. */
function snapshot(fx: GitFixture) {
  return {
    worktrees: fx.git(fx.repo, 'worktree', 'list', '--porcelain'),
    branches: fx.git(fx.repo, 'branch', '--all', '--verbose', '--no-abbrev'),
    folders: readdirSync(fx.dir).sort(),
  }
}

async function planAndCreate(
  fx: GitFixture,
  name: string,
  options: { flags?: Record<string, string | boolean>; worktree?: unknown; kind?: 'impl' | 'spec' } = {},
): Promise<{ ctx: TaskContext; logs: LogLine[] }> {
  const made = makeContext({
    task: options.kind ?? 'impl',
    cwd: fx.repo,
    repo: repoInfo(fx.repo),
    request: { name, kind: options.kind ?? 'impl' },
    flags: options.flags ?? {},
    worktree: options.worktree,
  })
  await plan.run(made.ctx)
  await create.run(made.ctx)
  return made
}

describe('worktree.create', () => {
  let fx: GitFixture
  beforeEach(() => {
    fx = gitFixture()
  })
  afterEach(() => fx.cleanup())

  test("creates ../<project>-impl-x on impl/x from origin's default branch after a fetch", async () => {
    const ahead = advanceOrigin(fx, 'work pushed by someone else')
    const localMain = fx.git(fx.repo, 'rev-parse', 'main')
    assert.notEqual(localMain, ahead)
    const { ctx } = await planAndCreate(fx, 'x')
    const path = join(fx.dir, 'acme-impl-x')
    assert.equal(fx.git(path, 'rev-parse', '--abbrev-ref', 'HEAD'), 'impl/x')
    assert.equal(fx.git(path, 'rev-parse', 'HEAD'), ahead)
    assert.equal(fx.git(fx.repo, 'rev-parse', 'main'), localMain, 'the main checkout is left alone')
    // Not tracking origin/main: pushing impl/x must not target main.
    assert.equal(fx.git(fx.repo, 'config', '--default', '', '--get', 'branch.impl/x.remote'), '')
    assert.deepEqual(ctx.output.worktree, {
      path,
      branch: 'impl/x',
      head: ahead,
      startPoint: 'origin/main',
      reusedBranch: false,
    })
  })

  test('copies the .env git ignores from the main checkout, with its mode; never a file git does not ignore', async () => {
    writeFileSync(join(fx.repo, '.gitignore'), '.env\nlocal/\n')
    fx.git(fx.repo, 'add', '.gitignore')
    fx.git(fx.repo, 'commit', '-q', '-m', 'ignore .env')
    writeFileSync(join(fx.repo, '.env'), 'APP_SECRET_KEY=local\n', { mode: 0o600 })
    mkdirSync(join(fx.repo, 'local'))
    writeFileSync(join(fx.repo, 'local', 'db.env'), 'DB=1\n')
    writeFileSync(join(fx.repo, 'notes.txt'), 'work in progress\n')
    const { logs } = await planAndCreate(fx, 'x', {
      worktree: { copy: ['.env', 'local/db.env', 'notes.txt', 'absent.env'] },
    })
    const path = join(fx.dir, 'acme-impl-x')
    assert.equal(readFileSync(join(path, '.env'), 'utf8'), 'APP_SECRET_KEY=local\n')
    assert.equal(statSync(join(path, '.env')).mode & 0o777, 0o600)
    assert.equal(readFileSync(join(path, 'local', 'db.env'), 'utf8'), 'DB=1\n')
    assert.equal(existsSync(join(path, 'notes.txt')), false, 'an untracked file git does not ignore is not config')
    assert.equal(existsSync(join(path, 'absent.env')), false)
    assert.ok(logs.some((line) => /copied \.env, local\/db\.env from the main checkout/.test(line.message)))
  })

  test('reuses an existing branch instead of failing, and says so', async () => {
    fx.git(fx.repo, 'branch', 'impl/x')
    const sha = fx.commit(fx.repo, 'main-only.txt', 'commit on main after the branch')
    fx.git(fx.repo, 'checkout', '--quiet', 'impl/x')
    const onBranch = fx.commit(fx.repo, 'feature.txt', 'feature work')
    fx.git(fx.repo, 'checkout', '--quiet', 'main')
    const { ctx, logs } = await planAndCreate(fx, 'x')
    const path = join(fx.dir, 'acme-impl-x')
    assert.equal(fx.git(path, 'rev-parse', 'HEAD'), onBranch)
    assert.notEqual(onBranch, sha)
    assert.equal((ctx.output.worktree as { reusedBranch: boolean }).reusedBranch, true)
    assert.ok(logs.some((line) => line.level === 'info' && /reusing existing branch impl\/x/.test(line.message)))
  })

  test('refuses with exit 3 when the existing branch is checked out elsewhere', async () => {
    fx.git(fx.repo, 'checkout', '--quiet', '-b', 'impl/busy')
    await assert.rejects(planAndCreate(fx, 'busy'), (error) => {
      assert.equal(exitCodeOf(error), 3)
      assert.match((error as Error).message, new RegExp(`already checked out in ${fx.repo}`))
      return true
    })
    assert.equal(existsSync(join(fx.dir, 'acme-impl-busy')), false)
  })

  test('starts from --from a tag', async () => {
    const tagged = fx.git(fx.repo, 'rev-parse', 'HEAD')
    fx.git(fx.repo, 'tag', 'v1.0.0')
    fx.commit(fx.repo, 'later.txt', 'later work')
    const { ctx } = await planAndCreate(fx, 'from-tag', { flags: { from: 'v1.0.0' } })
    assert.equal(fx.git(join(fx.dir, 'acme-impl-from-tag'), 'rev-parse', 'HEAD'), tagged)
    assert.equal((ctx.output.worktree as { startPoint: string }).startPoint, 'v1.0.0')
  })

  test('starts from --from a sha', async () => {
    const first = fx.git(fx.repo, 'rev-parse', 'HEAD')
    fx.commit(fx.repo, 'later.txt', 'later work')
    await planAndCreate(fx, 'from-sha', { flags: { from: first.slice(0, 10) } })
    assert.equal(fx.git(join(fx.dir, 'acme-impl-from-sha'), 'rev-parse', 'HEAD'), first)
  })

  test('refuses an unknown --from with exit 2 and creates nothing', async () => {
    const before = snapshot(fx)
    for (const from of ['no-such-ref', '--upload-pack=touch /tmp/pwned', '']) {
      await assert.rejects(planAndCreate(fx, 'bad-from', { flags: { from } }), (error) => exitCodeOf(error) === 2)
    }
    assert.deepEqual(snapshot(fx), before)
    assert.equal(existsSync(join(fx.dir, 'acme-impl-bad-from')), false)
  })

  test('falls back to the local HEAD with a warning when the repository has no remote', async () => {
    fx.cleanup()
    fx = gitFixture({ remote: false })
    const head = fx.git(fx.repo, 'rev-parse', 'HEAD')
    const { logs } = await planAndCreate(fx, 'local', { kind: 'spec' })
    const path = join(fx.dir, 'acme-spec-local')
    assert.equal(fx.git(path, 'rev-parse', 'HEAD'), head)
    assert.equal(fx.git(path, 'rev-parse', '--abbrev-ref', 'HEAD'), 'spec/local')
    assert.ok(logs.some((line) => line.level === 'warn' && /no remote origin.*local HEAD/.test(line.message)))
  })

  test('warns and continues with known refs when the fetch fails', async () => {
    const known = fx.git(fx.repo, 'rev-parse', 'origin/main')
    fx.git(fx.repo, 'remote', 'set-url', 'origin', join(fx.dir, 'gone.git'))
    const { logs } = await planAndCreate(fx, 'offline')
    assert.equal(fx.git(join(fx.dir, 'acme-impl-offline'), 'rev-parse', 'HEAD'), known)
    assert.ok(logs.some((line) => line.level === 'warn' && /git fetch origin failed/.test(line.message)))
  })

  test('asks the remote for its default branch when origin/HEAD is not set', async () => {
    fx.git(fx.repo, 'remote', 'set-head', 'origin', '--delete')
    const ahead = advanceOrigin(fx, 'newer')
    const { ctx, logs } = await planAndCreate(fx, 'no-head')
    assert.equal(fx.git(join(fx.dir, 'acme-impl-no-head'), 'rev-parse', 'HEAD'), ahead)
    assert.equal((ctx.output.worktree as { startPoint: string }).startPoint, 'origin/main')
    assert.equal(logs.filter((line) => line.level === 'warn').length, 0)
  })

  test('starts from the configured baseBranch on the remote', async () => {
    fx.git(fx.repo, 'checkout', '--quiet', '-b', 'develop')
    const develop = fx.commit(fx.repo, 'develop.txt', 'develop work')
    fx.git(fx.repo, 'push', '--quiet', 'origin', 'develop')
    fx.git(fx.repo, 'checkout', '--quiet', 'main')
    await planAndCreate(fx, 'dev', { worktree: { baseBranch: 'develop' } })
    assert.equal(fx.git(join(fx.dir, 'acme-impl-dev'), 'rev-parse', 'HEAD'), develop)
  })

  test('does not fetch when fetch is off', async () => {
    const known = fx.git(fx.repo, 'rev-parse', 'origin/main')
    advanceOrigin(fx, 'unseen')
    await planAndCreate(fx, 'nofetch', { worktree: { fetch: false } })
    assert.equal(fx.git(join(fx.dir, 'acme-impl-nofetch'), 'rev-parse', 'HEAD'), known)
  })

  test('undo leaves git worktree list and git branch byte-identical to before', async () => {
    const before = snapshot(fx)
    const { ctx } = await planAndCreate(fx, 'x')
    assert.notDeepEqual(snapshot(fx), before)
    await create.undo!(ctx)
    assert.deepEqual(snapshot(fx), before)
    assert.equal(existsSync(join(fx.dir, 'acme-impl-x')), false)
    assert.equal(existsSync(join(fx.repo, '.git', 'worktrees', 'acme-impl-x')), false)
  })

  test('undo keeps a branch it reused and removes the worktree even with files written into it', async () => {
    fx.git(fx.repo, 'branch', 'impl/x')
    const before = snapshot(fx)
    const { ctx } = await planAndCreate(fx, 'x')
    const path = join(fx.dir, 'acme-impl-x')
    // What later steps leave behind: an untracked .env.sandbox and a modified tracked file.
    writeFileSync(join(path, '.env.sandbox'), 'SLOT_NUMBER=1\n')
    writeFileSync(join(path, 'README.md'), 'changed\n')
    await create.undo!(ctx)
    assert.deepEqual(snapshot(fx), before)
    assert.equal(existsSync(path), false)
  })

  test('undo removes the parent folders it had to create', async () => {
    const { ctx } = await planAndCreate(fx, 'nested', { worktree: { parent: join(fx.dir, 'a', 'b') } })
    assert.ok(existsSync(join(fx.dir, 'a', 'b', 'acme-impl-nested')))
    await create.undo!(ctx)
    assert.equal(existsSync(join(fx.dir, 'a')), false)
  })

  test('two concurrent creates of the same worktree: exactly one wins, the other exits 3', async () => {
    const before = snapshot(fx)
    const path = join(fx.dir, 'acme-impl-race')
    const log = { info: () => {}, warn: () => {}, debug: () => {} }
    const options = { repoRoot: fx.repo, path, branch: 'impl/race', remote: 'origin', fetch: false, log }
    const results = await Promise.allSettled([createWorktree(options), createWorktree(options)])
    const won = results.filter((result) => result.status === 'fulfilled')
    const lost = results.filter((result) => result.status === 'rejected')
    assert.equal(won.length, 1)
    assert.equal(lost.length, 1)
    assert.equal(exitCodeOf((lost[0] as PromiseRejectedResult).reason), 3)
    assert.equal(fx.git(path, 'rev-parse', '--abbrev-ref', 'HEAD'), 'impl/race')
    const { ctx } = makeContext({ task: 'impl', cwd: fx.repo, repo: repoInfo(fx.repo) })
    ctx.state.worktree = { created: (won[0] as PromiseFulfilledResult<unknown>).value }
    await create.undo!(ctx)
    assert.deepEqual(snapshot(fx), before)
  })
})
