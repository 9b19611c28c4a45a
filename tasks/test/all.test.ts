import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { type AllReport, exitCodeOf, renderAll } from '../src/all.js'

const entry = (id: string, slot: number | null = 1) => ({ id, kind: 'impl' as const, slot, path: `/tmp/${id}` })
const stayed = (id: string, exitCode: number, reason = 'worktree.check: 1 unpushed commit') => ({
  ...entry(id),
  reason,
  hint: 'pass --force',
  exitCode,
  code: null,
})

describe('--all report', () => {
  test('exits 0 when every instance went, 3 when the ones that stayed stayed for a conflict, 1 when a removal failed, 130 when interrupted', () => {
    const base: AllReport = { dryRun: false, went: [entry('a')], stayed: [] }
    assert.equal(exitCodeOf(base), 0)
    assert.equal(exitCodeOf({ ...base, stayed: [stayed('b', 3)] }), 3)
    assert.equal(exitCodeOf({ ...base, stayed: [stayed('b', 3), stayed('c', 1, 'compose failed')] }), 1)
    assert.equal(exitCodeOf({ ...base, stayed: [stayed('b', 3), stayed('c', 130, 'not attempted: interrupted')] }), 130)
  })

  test('lists what went and what stayed with the reason and hint, or says there was nothing', () => {
    const lines = renderAll({ dryRun: true, went: [entry('a', 1)], stayed: [stayed('b', 3)] })
    assert.deepEqual(lines, [
      'dry run — nothing was changed:',
      'would go  a slot 1',
      'would stay b slot 1: worktree.check: 1 unpushed commit',
      '           hint: pass --force',
      '1 would go, 1 would stay',
    ])
    assert.deepEqual(renderAll({ dryRun: false, went: [], stayed: [] }), [
      'no instances of this project are registered: nothing to remove',
    ])
  })
})
