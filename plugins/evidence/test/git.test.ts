import assert from 'node:assert/strict'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { parseGitStatus, readGitState } from '../src/index.js'
import { git, gitCheckout, tempDir } from './helpers.js'

describe('git state of a checkout', () => {
  const root = tempDir()
  after(() => rmSync(root, { recursive: true, force: true }))

  test('a clean checkout reports its head and branch and no dirty files', async () => {
    const dir = join(root, 'clean')
    await import('node:fs').then((fs) => fs.mkdirSync(dir))
    await gitCheckout(dir, { 'a.txt': 'a\n' })
    const state = await readGitState(dir)
    assert.equal(state.head, (await git(dir, 'rev-parse', 'HEAD')).trim())
    assert.equal(state.branch, 'main')
    assert.deepEqual(state.dirty, [])
  })

  test('modified, staged, renamed, untracked files and names with spaces are all listed', async () => {
    const dir = join(root, 'dirty')
    await import('node:fs').then((fs) => fs.mkdirSync(dir))
    await gitCheckout(dir, { 'a.txt': 'a\n', 'b.txt': 'b\n', 'old name.txt': 'o\n' })
    writeFileSync(join(dir, 'a.txt'), 'changed\n')
    writeFileSync(join(dir, 'b.txt'), 'staged\n')
    await git(dir, 'add', 'b.txt')
    renameSync(join(dir, 'old name.txt'), join(dir, 'new name.txt'))
    await git(dir, 'add', '-A', 'old name.txt', 'new name.txt')
    writeFileSync(join(dir, 'untracked file.txt'), 'u\n')
    const state = await readGitState(dir)
    assert.deepEqual(
      state.dirty.sort((x, y) => x.path.localeCompare(y.path)),
      [
        { status: '.M', path: 'a.txt' },
        { status: 'M.', path: 'b.txt' },
        { status: 'R.', path: 'new name.txt' },
        { status: '??', path: 'untracked file.txt' },
      ],
    )
  })

  test('a detached head and an unborn branch are reported as null', async () => {
    const detached = parseGitStatus(`# branch.oid ${'a'.repeat(40)}\0# branch.head (detached)\0`)
    assert.equal(detached.branch, null)
    assert.equal(detached.head, 'a'.repeat(40))
    const unborn = parseGitStatus('# branch.oid (initial)\0# branch.head main\0')
    assert.equal(unborn.head, null)
    assert.equal(unborn.branch, 'main')
    const tracking = parseGitStatus(
      '# branch.oid x\0# branch.head main\0# branch.upstream origin/main\0# branch.ab +2 -1\0',
    )
    assert.deepEqual([tracking.upstream, tracking.ahead, tracking.behind], ['origin/main', 2, 1])
  })

  test('a folder that is not a git checkout is an error', async () => {
    await assert.rejects(readGitState(root), /not a git repository/)
  })
})
