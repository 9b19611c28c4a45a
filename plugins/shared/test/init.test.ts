import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ConflictError, OperationError, UsageError } from '@berth/contract'
import { runStep } from '@berth/contract/testing'
import { type InitSharedReport, sharedDataSchema, sharedPlugin, tarballLayout } from '../src/index.js'
import { makeContext, tempDir, tree, writeTree } from './helpers.js'

const sharedData = sharedDataSchema.parse({ dirs: { data: 'KTRDR_DATA_DIR', models: 'KTRDR_MODELS_DIR' } })

/** A source folder with both shared folders plus things that are not shared data. */
function sourceFolder(dir: string): string {
  writeTree(dir, {
    'data/bars/EURUSD_1h.csv': 'time,open\n1,1.1\n',
    'data/symbols.json': '["EURUSD"]\n',
    'models/mlp/v1.pt': 'weights',
    'notes.txt': 'not shared data\n',
    'secrets/key': 'do not copy\n',
  })
  return dir
}

describe('shared init', () => {
  const root = tempDir()
  after(() => rmSync(root, { recursive: true, force: true }))
  let n = 0
  const fresh = (flags: Record<string, string | boolean> = {}) => {
    const dir = join(root, `case-${++n}`)
    mkdirSync(dir)
    return { dir, home: join(dir, 'home'), ctx: makeContext({ root: dir, home: join(dir, 'home'), sharedData, flags }) }
  }
  const init = sharedPlugin().steps.init

  test('--minimal creates the empty folders, mode 0755, and nothing else', async () => {
    const { home, ctx } = fresh({ minimal: true })
    await runStep(init, ctx)
    assert.deepEqual(tree(home), ['shared/', 'shared/data/', 'shared/models/'])
    for (const name of ['data', 'models']) assert.equal(statSync(join(home, 'shared', name)).mode & 0o777, 0o755)
    const report = ctx.output.shared as InitSharedReport
    assert.deepEqual(
      report.dirs.map((d) => [d.name, d.env, d.action, d.files]),
      [
        ['data', 'KTRDR_DATA_DIR', 'created', 0],
        ['models', 'KTRDR_MODELS_DIR', 'created', 0],
      ],
    )
  })

  test('--from DIR copies only the named folders and reports what it left out', async () => {
    const { dir, home, ctx } = fresh()
    ctx.flags.from = sourceFolder(join(dir, 'seed'))
    await runStep(init, ctx)
    assert.deepEqual(tree(home), [
      'shared/',
      'shared/data/',
      'shared/data/bars/',
      'shared/data/bars/EURUSD_1h.csv',
      'shared/data/symbols.json',
      'shared/models/',
      'shared/models/mlp/',
      'shared/models/mlp/v1.pt',
    ])
    const report = ctx.output.shared as InitSharedReport
    assert.deepEqual(report.ignored, ['notes.txt', 'secrets'])
    assert.deepEqual(report.missing, [])
    assert.deepEqual(
      report.dirs.map((d) => [d.name, d.action, d.files, d.bytes]),
      [
        ['data', 'copied', 2, 27],
        ['models', 'copied', 1, 7],
      ],
    )
  })

  test('a relative --from is read from the cwd; a folder the source lacks is created empty', async () => {
    const { dir, home, ctx } = fresh({ from: 'seed' })
    writeTree(join(dir, 'seed'), { 'data/a.csv': 'a\n' })
    await runStep(init, ctx)
    const report = ctx.output.shared as InitSharedReport
    assert.deepEqual(report.missing, ['models'])
    assert.deepEqual(tree(home), ['shared/', 'shared/data/', 'shared/data/a.csv', 'shared/models/'])
    assert.match(ctx.logs.join('\n'), /the source has no models: created empty/)
  })

  test('a folder that already holds data is refused with exit 3, naming it, and nothing is written', async () => {
    const { dir, home, ctx } = fresh()
    writeTree(join(home, 'shared'), { 'models/existing.pt': 'mine' })
    ctx.flags.from = sourceFolder(join(dir, 'seed'))
    await assert.rejects(
      async () => runStep(init, ctx),
      (error: unknown) => {
        assert.ok(error instanceof ConflictError)
        assert.equal(error.exitCode, 3)
        assert.match(error.message, new RegExp(`${join(home, 'shared', 'models')}$`))
        return true
      },
    )
    assert.deepEqual(tree(home), ['shared/', 'shared/models/', 'shared/models/existing.pt'])
  })

  test('an existing empty folder is filled, and init without --from keeps existing data', async () => {
    const { dir, home, ctx } = fresh()
    mkdirSync(join(home, 'shared', 'data'), { recursive: true })
    ctx.flags.from = sourceFolder(join(dir, 'seed'))
    await runStep(init, ctx)
    assert.ok(existsSync(join(home, 'shared/data/symbols.json')))
    const again = makeContext({ root: dir, home, sharedData })
    await runStep(init, again)
    assert.deepEqual(
      (again.output.shared as InitSharedReport).dirs.map((d) => d.action),
      ['kept', 'kept'],
    )
    assert.ok(existsSync(join(home, 'shared/models/mlp/v1.pt')))
  })

  for (const [label, tarArgs] of [
    ['top-level folders', (src: string) => ['-C', src, 'data', 'models', 'notes.txt', 'secrets']],
    ['a ./ prefix', (src: string) => ['-C', src, '.']],
    ['one wrapping folder', (src: string) => ['-C', join(src, '..'), 'seed']],
  ] as const) {
    test(`--from a tarball with ${label} extracts only the named folders`, async () => {
      const { dir, home, ctx } = fresh()
      const seed = sourceFolder(join(dir, 'seed'))
      const tarball = join(dir, 'shared.tar.gz')
      execFileSync('tar', ['-czf', tarball, ...tarArgs(seed)])
      ctx.flags.from = tarball
      await runStep(init, ctx)
      assert.deepEqual(tree(home), [
        'shared/',
        'shared/data/',
        'shared/data/bars/',
        'shared/data/bars/EURUSD_1h.csv',
        'shared/data/symbols.json',
        'shared/models/',
        'shared/models/mlp/',
        'shared/models/mlp/v1.pt',
      ])
      assert.equal(readFileSync(join(home, 'shared/data/symbols.json'), 'utf8'), '["EURUSD"]\n')
      assert.deepEqual((ctx.output.shared as InitSharedReport).ignored, ['notes.txt', 'secrets'])
    })
  }

  test('an archive member climbing out with ".." is refused and nothing is left behind', async () => {
    const { dir, home, ctx } = fresh()
    const tarball = join(dir, 'evil.tar')
    // python's tarfile writes the member name verbatim, as a hostile archive would.
    execFileSync('python3', [
      '-c',
      `import tarfile, io
with tarfile.open(${JSON.stringify(tarball)}, 'w') as t:
    for name, body in [('data/ok.csv', b'ok'), ('data/../../escaped.txt', b'evil')]:
        info = tarfile.TarInfo(name); info.size = len(body); t.addfile(info, io.BytesIO(body))`,
    ])
    ctx.flags.from = tarball
    await assert.rejects(async () => runStep(init, ctx), OperationError)
    assert.ok(!existsSync(join(home, 'escaped.txt')) && !existsSync(join(dir, 'escaped.txt')))
    assert.deepEqual(tree(home), [], 'what init created was rolled back')
  })

  test('the wrapping-folder rule only applies when the named folders are inside it', () => {
    assert.deepEqual(tarballLayout(['pkg/', 'pkg/readme'], ['data']), {
      prefix: '',
      strip: 0,
      present: [],
      ignored: ['pkg'],
    })
    assert.deepEqual(tarballLayout(['./x/', './x/data/', './x/data/a'], ['data']), {
      prefix: './x/',
      strip: 2,
      present: ['data'],
      ignored: [],
    })
  })

  test('undo removes the folders init created and keeps those it found', async () => {
    const { dir, home, ctx } = fresh()
    mkdirSync(join(home, 'shared', 'models'), { recursive: true })
    ctx.flags.from = sourceFolder(join(dir, 'seed'))
    await runStep(init, ctx)
    await init.undo!(ctx)
    assert.ok(!existsSync(join(home, 'shared', 'data')))
    assert.ok(existsSync(join(home, 'shared', 'models')))
  })

  test('symlinks in the source are copied as links, never followed', async () => {
    const { dir, home, ctx } = fresh()
    writeTree(join(dir, 'seed'), { 'data/a.csv': 'a\n' })
    writeFileSync(join(dir, 'outside.txt'), 'outside\n')
    symlinkSync(join(dir, 'outside.txt'), join(dir, 'seed', 'data', 'link'))
    ctx.flags.from = join(dir, 'seed')
    await runStep(init, ctx)
    assert.ok(statSync(join(home, 'shared/data/a.csv')).isFile())
    assert.equal(
      execFileSync('readlink', [join(home, 'shared/data/link')], { encoding: 'utf8' }).trim(),
      join(dir, 'outside.txt'),
    )
  })

  test('usage errors: no folders configured, --from with --minimal, a missing source', async () => {
    const { dir, home } = fresh()
    await assert.rejects(
      async () => runStep(init, makeContext({ root: dir, home, sharedData: undefined })),
      /no shared folders are configured/,
    )
    await assert.rejects(
      async () => runStep(init, makeContext({ root: dir, home, sharedData, flags: { from: dir, minimal: true } })),
      UsageError,
    )
    await assert.rejects(
      async () => runStep(init, makeContext({ root: dir, home, sharedData, flags: { from: join(dir, 'nope') } })),
      /--from .*nope does not exist/,
    )
    assert.ok(!existsSync(home))
  })
})
