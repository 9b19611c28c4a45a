import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { findRepository as detectRepo, normaliseOrigin } from '../src/index.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-repo-')))
after(() => rmSync(root, { recursive: true, force: true }))

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null' }, stdio: 'pipe' })

describe('findRepository', () => {
  test('gives two clones of one origin the same origin, and a clone of a clone its main checkout', async () => {
    git(root, 'init', '-q', '--bare', 'origin.git')
    git(root, 'clone', '-q', join(root, 'origin.git'), 'main')
    git(root, 'clone', '-q', './origin.git', 'other')
    git(root, 'clone', '-q', join(root, 'main'), 'prod')
    const [main, other, prod] = await Promise.all(['main', 'other', 'prod'].map((d) => detectRepo(join(root, d))))
    assert.equal(main?.origin, join(root, 'origin.git'))
    assert.equal(other?.origin, main?.origin)
    assert.equal(prod?.origin, main?.root)
  })

  test('says null for a repository without an origin, and nothing outside git', async () => {
    mkdirSync(join(root, 'alone'))
    git(join(root, 'alone'), 'init', '-q')
    assert.equal((await detectRepo(join(root, 'alone')))?.origin, null)
    mkdirSync(join(root, 'plain'))
    assert.equal(await detectRepo(join(root, 'plain')), undefined)
  })
})

describe('normaliseOrigin', () => {
  test('drops a trailing slash and .git from remote URLs and makes local paths absolute', () => {
    assert.equal(normaliseOrigin('git@github.com:me/api.git', '/x'), 'git@github.com:me/api')
    assert.equal(normaliseOrigin('https://example.com/me/api/', '/x'), 'https://example.com/me/api')
    assert.equal(normaliseOrigin('../nowhere/api.git', '/x/y'), '/x/nowhere/api.git')
    assert.equal(normaliseOrigin('file:///nowhere/api/', '/x'), '/nowhere/api')
  })
})
