import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { BERTH_BIN, berth, git, gitRepo, testdir } from './helpers/index.js'

const run = promisify(execFile)

describe('berth setup', () => {
  const tmp = testdir('berth-setup-')
  const home = join(tmp.dir, 'home')
  const bin = join(tmp.dir, 'bin')
  let repo = ''
  before(async () => {
    mkdirSync(bin)
    symlinkSync(BERTH_BIN, join(bin, 'berth'))
    await run('bash', [join(import.meta.dirname, '../examples/demo/images/build.sh')])
    ;({ repo } = await gitRepo(tmp.dir, 'fresh', {
      'compose.yaml': [
        'services:',
        '  api:',
        '    image: berth-demo-base:local',
        `    command: ["node", "-e", "require('http').createServer((q, s) => s.end('ok')).listen(8000)"]`,
        '    ports:',
        '      - "127.0.0.1:${API_PORT}:8000"',
        '',
      ].join('\n'),
    }))
  })
  after(async () => {
    await berth(['done', 'x', '--force'], { cwd: repo, home })
    tmp.cleanup()
  })

  test('makes pnpm sandbox:impl x work in a fresh repository, and a second run changes nothing', async () => {
    const first = await berth(['setup', '--preset', 'minimal', '--json'], { cwd: repo, home })
    assert.equal(first.code, 0, first.stderr)
    assert.deepEqual(first.json.changed.map((f: string) => f.slice(repo.length + 1)).sort(), [
      '.gitignore',
      'berth.config.ts',
      'package.json',
    ])
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'))
    assert.equal(pkg.scripts['sandbox:impl'], 'berth impl')
    assert.match(readFileSync(join(repo, '.gitignore'), 'utf8'), /^\.env\.sandbox$/m)

    const snapshot = ['package.json', '.gitignore', 'berth.config.ts'].map((f) => readFileSync(join(repo, f), 'utf8'))
    const second = await berth(['setup', '--json'], { cwd: repo, home })
    assert.equal(second.code, 0, second.stderr)
    assert.deepEqual(second.json.changed, [])
    assert.deepEqual(
      ['package.json', '.gitignore', 'berth.config.ts'].map((f) => readFileSync(join(repo, f), 'utf8')),
      snapshot,
    )
    await git(repo, 'add', '-A')
    await git(repo, 'commit', '-q', '-m', 'berth setup')

    const impl = await run('pnpm', ['sandbox:impl', 'x'], {
      cwd: repo,
      env: { ...process.env, BERTH_HOME: home, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1' },
    })
    assert.match(impl.stdout + impl.stderr, /ready fresh-impl-x/)
    const env = readFileSync(join(tmp.dir, 'fresh-impl-x', '.env.sandbox'), 'utf8')
    const port = /^API_PORT=(\d+)$/m.exec(env)?.[1]
    const answer = await fetch(`http://127.0.0.1:${port}/`)
    assert.equal(await answer.text(), 'ok')
  })

  test('says when there is no compose file and writes the minimal config; a KTRDR-shaped compose file gets the KTRDR preset, --preset ktrdr forces it', async () => {
    const other = testdir('berth-setup-presets-')
    try {
      const { repo: empty } = await gitRepo(join(other.dir, 'e'), 'empty')
      const none = await berth(['setup', '--json'], { cwd: empty, home })
      assert.equal(none.code, 0, none.stderr)
      assert.equal(none.json.inferred.source, 'minimal')
      assert.match(
        none.json.inferred.reasons[0],
        /^no compose file found \(compose\.yaml, compose\.yml, docker-compose\.yml, docker-compose\.yaml\)/,
      )

      const { repo: ktrdr } = await gitRepo(join(other.dir, 'k'), 'ktrdr', {
        'docker-compose.yml':
          'services:\n  backend:\n    image: b\n    ports: ["127.0.0.1:${KTRDR_API_PORT:-8000}:8000"]\n',
      })
      const shaped = await berth(['setup'], { cwd: ktrdr, home })
      assert.equal(shaped.code, 0, shaped.stderr)
      assert.match(
        shaped.stdout,
        /ktrdr config \(compose files: docker-compose\.yml\):\n {2}docker-compose\.yml publishes KTRDR_\* port variables/,
      )
      assert.match(readFileSync(join(ktrdr, 'berth.config.ts'), 'utf8'), /the KTRDR preset applies/)

      const { repo: plain } = await gitRepo(join(other.dir, 'p'), 'plain', {
        'compose.yaml': 'services:\n  db:\n    image: db\n    ports: ["5432:5432"]\n',
      })
      const forced = await berth(['setup', '--preset', 'ktrdr', '--json'], { cwd: plain, home })
      assert.equal(forced.code, 0, forced.stderr)
      assert.deepEqual(forced.json.inferred, {
        source: 'ktrdr',
        files: ['compose.yaml'],
        reasons: ['--preset ktrdr: the KTRDR port layout and gate'],
      })
    } finally {
      other.cleanup()
    }
  })

  test('refuses to overwrite a different script without --force and writes nothing', async () => {
    const other = testdir('berth-setup-conflict-')
    try {
      const { repo: r } = await gitRepo(other.dir, 'app')
      writeFileSync(
        join(r, 'package.json'),
        `${JSON.stringify({ scripts: { 'sandbox:impl': 'make sandbox' } }, null, 2)}\n`,
      )
      const before = readFileSync(join(r, 'package.json'), 'utf8')
      const result = await berth(['setup'], { cwd: r, home })
      assert.equal(result.code, 3)
      assert.match(result.stderr, /scripts\.sandbox:impl/)
      assert.equal(readFileSync(join(r, 'package.json'), 'utf8'), before)
      assert.equal((await berth(['setup', '--preset', 'nope'], { cwd: r, home })).code, 2)
    } finally {
      other.cleanup()
    }
  })
})

describe('berth completion', () => {
  const tmp = testdir('berth-completion-')
  const home = join(tmp.dir, 'home')
  after(() => tmp.cleanup())

  async function complete(words: string[], shellScript: string, bin: string): Promise<string[]> {
    const script = `source ${shellScript}; COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _berth_complete; printf '%s\\n' "\${COMPREPLY[@]}"`
    const { stdout } = await run('bash', ['-c', script], {
      env: { ...process.env, BERTH_HOME: home, PATH: `${bin}:${process.env.PATH}` },
    })
    return stdout.split('\n').filter(Boolean)
  }

  test('bash completes commands, subcommands, flags and registered instance names', async () => {
    const bin = join(tmp.dir, 'bin')
    mkdirSync(bin)
    symlinkSync(BERTH_BIN, join(bin, 'berth'))
    const { repo } = await gitRepo(tmp.dir, 'app', {
      'berth.config.json': JSON.stringify({ ports: { API_PORT: { base: 36100 } } }),
    })
    assert.equal((await berth(['impl', 'alpha', '--no-up'], { cwd: repo, home })).code, 0)
    assert.equal((await berth(['impl', 'beta', '--no-up'], { cwd: repo, home })).code, 0)
    assert.equal((await berth(['impl', 'genome/M1', '--no-up', '--slot', '3'], { cwd: repo, home })).code, 0)
    const script = join(tmp.dir, 'berth.bash')
    const generated = await berth(['completion', 'bash'], { cwd: tmp.dir, home })
    assert.equal(generated.code, 0, generated.stderr)
    writeFileSync(script, generated.stdout)

    assert.deepEqual(await complete(['berth', 'sa'], script, bin), ['sandbox'])
    assert.deepEqual(await complete(['berth', 'done', ''], script, bin), [
      'app-impl-alpha',
      'alpha',
      'app-impl-beta',
      'beta',
      'app-impl-genome-m1',
      'genome/M1',
    ])
    assert.deepEqual(await complete(['berth', 'done', 'gen'], script, bin), ['genome/M1'])
    assert.ok((await complete(['berth', 'sandbox', 'u'], script, bin)).includes('up'))
    assert.ok((await complete(['berth', 'impl', '--no'], script, bin)).includes('--no-up'))
    await berth(['done', 'alpha', '--force'], { cwd: repo, home })
    await berth(['done', 'beta', '--force'], { cwd: repo, home })
    await berth(['done', 'genome/M1', '--force'], { cwd: repo, home })
  })

  test('zsh and fish scripts are generated; an unknown shell exits 2', async () => {
    assert.match((await berth(['completion', 'zsh'], { cwd: tmp.dir, home })).stdout, /bashcompinit/)
    assert.match((await berth(['completion', 'fish'], { cwd: tmp.dir, home })).stdout, /complete -c berth/)
    assert.equal((await berth(['completion', 'tcsh'], { cwd: tmp.dir, home })).code, 2)
  })
})
