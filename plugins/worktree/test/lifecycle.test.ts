import assert from 'node:assert/strict'
import { existsSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { type InstanceRecord, isBerthError, type Step, type TaskContext } from '@berth/contract'
import { worktreePlugin } from '../src/index.js'
import { makeContext } from './helpers/context.js'
import { type GitFixture, gitFixture } from './helpers/git-fixture.js'

const steps = worktreePlugin().steps

/** Runs named steps in order like the runner, undoing completed ones in reverse on failure. */
async function runPipeline(ctx: TaskContext, names: string[], calls: string[], extra: Record<string, Step> = {}) {
  const all: Record<string, Step> = { ...steps, ...extra }
  const done: string[] = []
  try {
    for (const name of names) {
      calls.push(`run ${name}`)
      await all[name]!.run(ctx)
      done.push(name)
    }
  } catch (error) {
    for (const name of done.reverse()) {
      const undo = all[name]?.undo
      if (!undo) continue
      calls.push(`undo ${name}`)
      await undo(ctx)
    }
    throw error
  }
}

describe('impl then done, as the runner wires the steps', () => {
  let fx: GitFixture
  let record: InstanceRecord
  before(() => {
    fx = gitFixture()
  })
  after(() => fx.cleanup())

  test('impl creates ../acme-impl-x next to the main checkout', async () => {
    const { ctx } = makeContext({ task: 'impl', cwd: fx.repo, request: { name: 'x', kind: 'impl' } })
    const calls: string[] = []
    await runPipeline(ctx, ['plan', 'create'], calls)
    record = { ...ctx.instance!, slot: 1 }
    assert.equal(record.path, join(fx.dir, 'acme-impl-x'))
    assert.ok(existsSync(join(record.path, 'README.md')))
  })

  test('run from inside a worktree, a failing later step undoes the new worktree and leaves no branch behind', async () => {
    const { ctx } = makeContext({
      task: 'impl',
      cwd: join(fx.dir, 'acme-impl-x'),
      request: { name: 'y', kind: 'impl' },
    })
    const calls: string[] = []
    const failing: Step = { run: () => Promise.reject(new Error('compose up failed')) }
    await assert.rejects(
      runPipeline(ctx, ['plan', 'create', 'compose-up'], calls, { 'compose-up': failing }),
      /compose up failed/,
    )
    assert.deepEqual(calls, ['run plan', 'run create', 'run compose-up', 'undo create'])
    assert.equal(ctx.repo?.root, fx.repo)
    assert.equal(existsSync(join(fx.dir, 'acme-impl-y')), false)
    assert.equal(fx.git(fx.repo, 'branch', '--list', 'impl/y'), '')
  })

  test('done refuses uncommitted work with exit 3 and touches nothing', async () => {
    writeFileSync(join(record.path, 'wip.txt'), 'unsaved\n')
    const { ctx } = makeContext({ task: 'done', cwd: record.path, instance: record })
    const calls: string[] = []
    await assert.rejects(runPipeline(ctx, ['check', 'remove'], calls), (error) => {
      return isBerthError(error) && error.exitCode === 3 && /wip\.txt/.test(error.message)
    })
    assert.deepEqual(calls, ['run check'])
    assert.ok(existsSync(join(record.path, 'wip.txt')))
  })

  test('done removes the committed and pushed worktree, keeps the branch, and impl reuses it later', async () => {
    fx.git(record.path, 'add', 'wip.txt')
    fx.git(record.path, 'commit', '--quiet', '-m', 'save wip')
    fx.git(record.path, 'push', '--quiet', '-u', 'origin', 'impl/x')
    const tip = fx.git(record.path, 'rev-parse', 'HEAD')
    const { ctx } = makeContext({ task: 'done', cwd: record.path, instance: record })
    await runPipeline(ctx, ['check', 'remove'], [])
    assert.equal(existsSync(record.path), false)
    assert.equal(fx.git(fx.repo, 'rev-parse', 'impl/x'), tip)

    const again = makeContext({ task: 'impl', cwd: fx.repo, request: { name: 'x', kind: 'impl' } })
    await runPipeline(again.ctx, ['plan', 'create'], [])
    assert.equal(fx.git(record.path, 'rev-parse', 'HEAD'), tip)
    assert.ok(again.logs.some((line) => /reusing existing branch impl\/x/.test(line.message)))
  })
})
