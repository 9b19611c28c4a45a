import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  configRemotes,
  configRemoteUrl,
  findRepository as detectRepo,
  discoverGitDirs,
  normaliseOrigin,
  readRef,
} from '../src/index.js'

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

describe('discoverGitDirs (files, no git process)', () => {
  const viaGit = (dir: string) => {
    const [top, gitDir, common] = git(dir, 'rev-parse', '--show-toplevel', '--git-dir', '--git-common-dir')
      .toString()
      .trim()
      .split('\n')
    return {
      toplevel: realpathSync(top!),
      gitDir: realpathSync(resolve(realpathSync(dir), gitDir!)),
      commonDir: realpathSync(resolve(realpathSync(dir), common!)),
    }
  }

  test('answers as git does in a clone, a subfolder, a linked worktree, a symlink and a separate git dir', () => {
    const base = join(root, 'discover')
    mkdirSync(join(base, 'main', 'src', 'deep'), { recursive: true })
    git(join(base, 'main'), 'init', '-q')
    git(join(base, 'main'), '-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', 'x')
    git(join(base, 'main'), 'worktree', 'add', '-q', '-b', 'feature', join(base, 'linked'))
    symlinkSync(join(base, 'main', 'src'), join(base, 'link'))
    git(base, 'init', '-q', '--separate-git-dir', join(base, 'store.git'), 'separate')
    for (const dir of ['main', 'main/src/deep', 'linked', 'link', 'separate']) {
      const at = join(base, dir)
      assert.deepEqual(discoverGitDirs(at), viaGit(at), dir)
    }
  })

  test('leaves the answer to git inside a git dir, a bare repository, with GIT_CEILING_DIRECTORIES or config it does not read', () => {
    const base = join(root, 'unusual')
    mkdirSync(join(base, 'plain'), { recursive: true })
    git(join(base, 'plain'), 'init', '-q')
    git(base, 'init', '-q', '--bare', 'bare.git')
    assert.equal(discoverGitDirs(join(base, 'plain', '.git')), undefined)
    assert.equal(discoverGitDirs(join(base, 'bare.git')), undefined)
    process.env.GIT_CEILING_DIRECTORIES = base
    try {
      assert.equal(discoverGitDirs(join(base, 'plain')), undefined)
    } finally {
      delete process.env.GIT_CEILING_DIRECTORIES
    }
    git(join(base, 'plain'), 'config', 'include.path', '/dev/null')
    assert.equal(discoverGitDirs(join(base, 'plain')), undefined)
  })

  test('reads remote urls as git config --get prints them, and declines quoted ones', () => {
    const dir = join(root, 'remotes')
    mkdirSync(dir)
    git(dir, 'init', '-q')
    git(dir, 'remote', 'add', 'origin', 'git@github.com:me/api.git')
    git(dir, 'remote', 'add', 'Upper', 'https://example.com/x')
    const common = discoverGitDirs(dir)!.commonDir
    assert.equal(configRemoteUrl(common, 'origin'), 'git@github.com:me/api.git')
    assert.equal(configRemoteUrl(common, 'Upper'), 'https://example.com/x')
    assert.equal(configRemoteUrl(common, 'missing'), undefined)
    git(dir, 'config', 'remote.quoted.url', 'a "b" c')
    assert.equal(configRemoteUrl(common, 'quoted'), undefined)
  })
})

describe('readRef (files, no git process)', () => {
  test('reads loose, packed and symbolic refs as git rev-parse does, and null for a missing one', () => {
    const base = join(root, 'refs')
    mkdirSync(base)
    git(base, 'init', '-q', '--bare', '-b', 'main', 'origin.git')
    git(base, 'clone', '-q', join(base, 'origin.git'), 'seed')
    const seed = join(base, 'seed')
    git(seed, '-c', 'user.email=a@b', '-c', 'user.name=a', 'commit', '-q', '--allow-empty', '-m', 'x')
    git(seed, 'push', '-q', 'origin', 'HEAD:main')
    git(base, 'clone', '-q', join(base, 'origin.git'), 'clone')
    const clone = join(base, 'clone')
    git(clone, 'branch', 'loose')
    const revParse = (ref: string) =>
      git(clone, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`).toString().trim()
    assert.equal(readRef(clone, 'refs/heads/loose')?.target, revParse('refs/heads/loose'))
    assert.deepEqual(readRef(clone, 'refs/remotes/origin/HEAD'), {
      target: revParse('refs/remotes/origin/main'),
      symbolic: 'refs/remotes/origin/main',
    })
    git(clone, 'pack-refs', '--all')
    assert.equal(readRef(clone, 'refs/heads/loose')?.target, revParse('refs/heads/loose'))
    assert.equal(readRef(clone, 'refs/remotes/origin/main')?.target, revParse('refs/remotes/origin/main'))
    assert.equal(readRef(clone, 'refs/heads/nothing'), null)
    assert.equal(readRef(clone, 'HEAD'), undefined)
    assert.deepEqual(configRemotes(clone), ['origin'])
  })
})
