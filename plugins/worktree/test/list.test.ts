import assert from 'node:assert/strict'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { isBerthError } from '@berth/contract'
import {
  checkoutType,
  detectCheckout,
  formatListing,
  listWorktrees,
  parseWorktreeList,
  worktreeListingSchema,
  worktreePlugin,
} from '../src/index.js'
import { makeContext, recordFor, repoInfo } from './helpers/context.js'
import { type GitFixture, gitFixture } from './helpers/git-fixture.js'

describe('listWorktrees', () => {
  let fx: GitFixture
  before(() => {
    fx = gitFixture()
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/a', join(fx.dir, 'acme-impl-a'))
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '--detach', join(fx.dir, 'acme-detached'))
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'spec/locked', join(fx.dir, 'acme-spec-locked'))
    fx.git(fx.repo, 'worktree', 'lock', '--reason', 'on a usb stick', join(fx.dir, 'acme-spec-locked'))
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/gone', join(fx.dir, 'acme-impl-gone'))
    rmSync(join(fx.dir, 'acme-impl-gone'), { recursive: true, force: true })
  })
  after(() => fx.cleanup())

  test('parses main, branch, detached, locked and prunable worktrees (git sorts linked ones by path)', async () => {
    const head = fx.git(fx.repo, 'rev-parse', 'HEAD')
    const entries = await listWorktrees(fx.repo)
    const base = {
      head,
      detached: false,
      bare: false,
      locked: false,
      lockedReason: null,
      prunable: false,
      prunableReason: null,
    }
    assert.deepEqual(entries, [
      { ...base, path: fx.repo, branch: 'main', main: true },
      { ...base, path: join(fx.dir, 'acme-detached'), branch: null, detached: true, main: false },
      { ...base, path: join(fx.dir, 'acme-impl-a'), branch: 'impl/a', main: false },
      {
        ...base,
        path: join(fx.dir, 'acme-impl-gone'),
        branch: 'impl/gone',
        prunable: true,
        prunableReason: 'gitdir file points to non-existent location',
        main: false,
      },
      {
        ...base,
        path: join(fx.dir, 'acme-spec-locked'),
        branch: 'spec/locked',
        locked: true,
        lockedReason: 'on a usb stick',
        main: false,
      },
    ])
  })

  test('parses a bare entry and a lock without reason', () => {
    const text = ['worktree /srv/repo.git', 'bare', '', 'worktree /srv/w', 'HEAD abc', 'detached', 'locked', ''].join(
      '\n',
    )
    const [bare, locked] = parseWorktreeList(text)
    assert.equal(bare?.bare, true)
    assert.equal(bare?.head, null)
    assert.equal(locked?.locked, true)
    assert.equal(locked?.lockedReason, null)
  })

  test('worktree.list reports kind, branch, slot and dirty/unpushed state for every worktree', async () => {
    writeFileSync(join(fx.dir, 'acme-impl-a', 'notes.txt'), 'x\n')
    fx.commit(join(fx.dir, 'acme-spec-locked'), 'design.md', 'design draft')
    const clone = join(fx.dir, 'acme--stream-b')
    fx.git(fx.dir, 'clone', '--quiet', fx.origin, clone)
    const instances = [
      recordFor(join(fx.dir, 'acme-impl-a'), fx.repo, { id: 'acme-impl-a', slot: 2, branch: 'impl/a' }),
      recordFor(clone, fx.repo, { id: 'acme--stream-b', kind: 'sandbox', slot: 5, createdByBerth: false }),
    ]
    const { ctx, logs } = makeContext({
      task: 'worktrees',
      cwd: fx.repo,
      repo: repoInfo(fx.repo),
      services: { listInstances: async () => instances },
    })
    await worktreePlugin().steps.list!.run(ctx)
    const rows = worktreeListingSchema.array().parse(ctx.output.worktrees)
    const summary = rows.map((row) => ({
      path: row.path.slice(fx.dir.length + 1),
      kind: row.kind,
      main: row.main,
      branch: row.branch,
      slot: row.slot,
      dirty: row.dirty,
      unpushed: row.unpushed.map((commit) => commit.subject),
      missing: row.missing,
      checkout: row.checkout,
    }))
    const clean = { main: false, slot: null, dirty: [], unpushed: [], missing: false, checkout: 'worktree' }
    assert.deepEqual(summary, [
      { ...clean, path: 'acme', kind: 'other', main: true, branch: 'main', checkout: 'clone' },
      { ...clean, path: 'acme-detached', kind: 'other', branch: null },
      { ...clean, path: 'acme-impl-a', kind: 'impl', branch: 'impl/a', slot: 2, dirty: ['?? notes.txt'] },
      { ...clean, path: 'acme-impl-gone', kind: 'impl', branch: 'impl/gone', missing: true },
      { ...clean, path: 'acme-spec-locked', kind: 'spec', branch: 'spec/locked', unpushed: ['design draft'] },
      { ...clean, path: 'acme--stream-b', kind: 'other', branch: 'main', slot: 5, checkout: 'clone' },
    ])
    // The listing is the step's output (rendered by the CLI on stdout), not log lines.
    assert.equal(logs.length, 0)
    assert.match(
      formatListing(rows.find((row) => row.branch === 'impl/a')!),
      /^impl\s+impl\/a\s+slot 2\s+1 uncommitted/,
    )
  })
})

describe('detectCheckout', () => {
  let fx: GitFixture
  before(() => {
    fx = gitFixture()
    fx.git(fx.repo, 'worktree', 'add', '--quiet', '-b', 'impl/a', join(fx.dir, 'acme-impl-a'))
    mkdirSync(join(fx.dir, 'acme-impl-a', 'src', 'deep'), { recursive: true })
  })
  after(() => fx.cleanup())

  test('finds the main checkout from inside it', async () => {
    mkdirSync(join(fx.repo, 'sub'), { recursive: true })
    const { origin: _origin, ...main } = await detectCheckout(join(fx.repo, 'sub'))
    assert.deepEqual(main, {
      root: fx.repo,
      checkout: fx.repo,
      isWorktree: false,
    })
    assert.equal(await checkoutType(fx.repo), 'clone')
  })

  test('finds the main checkout from deep inside a linked worktree', async () => {
    const worktree = join(fx.dir, 'acme-impl-a')
    const { origin: _origin, ...linked } = await detectCheckout(join(worktree, 'src', 'deep'))
    assert.deepEqual(linked, {
      root: fx.repo,
      checkout: worktree,
      isWorktree: true,
    })
    assert.equal(await checkoutType(worktree), 'worktree')
    assert.match(readFileSync(join(worktree, '.git'), 'utf8'), /^gitdir: /)
  })

  test('fails with exit 4 outside any repository', async () => {
    const outside = join(fx.dir, 'not-a-repo')
    mkdirSync(outside)
    await assert.rejects(
      detectCheckout(outside),
      (error) => isBerthError(error) && error.exitCode === 4 && error.code === 'E_NO_REPO',
    )
    assert.equal(await checkoutType(outside), 'none')
  })

  test('fails with exit 4 when git is not on PATH', async () => {
    const saved = process.env.PATH
    process.env.PATH = join(fx.dir, 'empty-bin')
    try {
      await assert.rejects(
        detectCheckout(fx.repo),
        (error) => isBerthError(error) && error.exitCode === 4 && error.code === 'E_NO_GIT',
      )
    } finally {
      process.env.PATH = saved
    }
  })
})
