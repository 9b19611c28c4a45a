/**
 * Concurrency and hostile input through the real CLI (no containers start here), plus
 * property-based tests (fast-check) of name slugging and of port layouts, and the rules
 * `doctor --fix` applies before it removes an orphan stack.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import fc from 'fast-check'
import { orphanVerdict } from '../plugins/compose/src/steps/repair.js'
import { UsageError } from '../plugins/contract/src/errors.js'
import { instanceIdFor, NAME_PATTERN, parseFeatureName, slugify, validateName } from '../plugins/contract/src/names.js'
import { layoutProblems, type PortLayout, slotPorts } from '../plugins/ports/src/layout.js'
import { countProjectObjects, readEnvFile, removeProject } from './helpers/demo.js'
import { berth, git, gitRepo, testdir, writeConfig } from './helpers/index.js'
import {
  expectExit,
  ourProjects,
  type RelRepo,
  registryBytes,
  registryIds,
  relRepo,
  smallConfig,
} from './reliability-fixtures.js'

after(
  async () => {
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 60_000 },
)

/** Files named `pwned` anywhere under `dir`: proof that a shell ran something it should not have. */
function pwnedFiles(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.name === 'pwned') found.push(full)
    if (entry.isDirectory() && entry.name !== '.git') found.push(...pwnedFiles(full))
  }
  return found
}

async function branches(repo: string): Promise<string[]> {
  return (await git(repo, 'branch', '--format=%(refname:short)')).split('\n').filter(Boolean).sort()
}

/** Names a shell or a path would read as something else. Every one must be refused with exit 2. */
const HOSTILE_NAMES: [string, string][] = [
  ['dot-dot', '..'],
  ['parent path', '../x'],
  ['leading slash', '/etc/passwd'],
  ['trailing slash', 'a/'],
  ['double slash', 'a//b'],
  ['hidden part', 'a/.git'],
  ['backslash', 'a\\b'],
  ['newline', 'a\nb'],
  ['space', 'a b'],
  ['tab', 'a\tb'],
  ['command substitution', '$(touch${IFS}pwned)'],
  ['backticks', '`touch${IFS}pwned`'],
  ['semicolon', 'a;touch${IFS}pwned'],
  ['pipe', 'a|b'],
  ['ampersand', 'a&b'],
  ['redirect', 'a>pwned'],
  ['variable', '$HOME'],
  ['glob', 'a*'],
  ['quote', "it's"],
  ['double quote', 'a"b'],
  ['braces', '{a,b}'],
  ['accented', 'café'],
  ['cjk', '日本'],
  ['emoji', 'a🚀'],
  ['right-to-left override', 'a\u202eb'],
  ['zero-width space', 'a\u200bb'],
  ['10 kB', 'x'.repeat(10_240)],
  ['empty', ''],
]

describe('concurrency and hostile input', { concurrency: true }, () => {
  test('20 concurrent impl --no-up of distinct names on a 20-slot pool get 20 distinct slots, each worktree with its own .env.sandbox', {
    timeout: 240_000,
  }, async (t) => {
    const rel = await relRepo('many', {
      config: (project, block) =>
        smallConfig(project, block, { slots: { pool: Array.from({ length: 20 }, (_, i) => i + 1), max: 20 } }),
    })
    t.after(() => rel.cleanup())
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`)
    const results = await Promise.all(names.map((name) => rel.run(['impl', name, '--no-up', '--json'])))
    for (const [i, result] of results.entries()) expectExit(result, 0, `impl ${names[i]}`)
    const slots = results.map((r) => r.json.instance.slot as number)
    assert.deepEqual(
      [...slots].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
      'slots 1..20, each once',
    )
    names.forEach((name, i) => {
      const env = readEnvFile(join(rel.tree(name), '.env.sandbox'))
      assert.equal(env.INSTANCE_ID, rel.id(name))
      assert.equal(env.SLOT_NUMBER, String(slots[i]))
      assert.equal(env.KTRDR_API_PORT, String(rel.block + slots[i]!))
    })
    assert.equal(registryIds(rel.home).length, 20)
    assert.equal(statSync(join(rel.home, 'registry.json')).mode & 0o777, 0o600)
  })

  test('5 concurrent impl of the same name: exactly one succeeds, four exit 3, one worktree', {
    timeout: 180_000,
  }, async (t) => {
    const rel = await relRepo('same')
    t.after(() => rel.cleanup())
    const results = await Promise.all(Array.from({ length: 5 }, () => rel.run(['impl', 'same', '--no-up'])))
    const codes = results.map((r) => r.code).sort()
    assert.deepEqual(codes, [0, 3, 3, 3, 3], results.map((r) => `${r.code}: ${r.stderr}`).join('\n'))
    const worktrees = (await git(rel.repo, 'worktree', 'list', '--porcelain'))
      .split('\n')
      .filter((line) => line === 'branch refs/heads/impl/same')
    assert.equal(worktrees.length, 1, 'one worktree on impl/same')
    assert.deepEqual(registryIds(rel.home), [rel.id('same')])
    assert.ok(existsSync(join(rel.tree('same'), '.env.sandbox')))
  })

  test('hostile instance names (.., /, newlines, shell metacharacters, unicode, 10 kB) exit 2 for impl, spec and sandbox init; nothing is created or executed', {
    timeout: 240_000,
  }, async (t) => {
    const rel = await relRepo('names')
    t.after(() => rel.cleanup())
    const folders = readdirSync(rel.dir).sort()
    const branchesBefore = await branches(rel.repo)
    // Every name through impl; a sample through spec and sandbox init (same validation, other callers).
    const sample = new Set([
      'parent path',
      'leading slash',
      'newline',
      'command substitution',
      'accented',
      '10 kB',
      'empty',
    ])
    const runs = HOSTILE_NAMES.flatMap(([label, name]) => [
      { label: `impl ${label}`, args: ['impl', name, '--no-up'] },
      ...(sample.has(label)
        ? [
            { label: `spec ${label}`, args: ['spec', name] },
            { label: `sandbox init --name ${label}`, args: ['sandbox', 'init', '--name', name] },
          ]
        : []),
    ])
    // A few at a time: each is a whole CLI start.
    const failures: string[] = []
    for (let i = 0; i < runs.length; i += 8) {
      await Promise.all(
        runs.slice(i, i + 8).map(async ({ label, args }) => {
          const result = await rel.run(args)
          if (result.code !== 2 || !/error: /.test(result.stderr)) {
            failures.push(`${label}: exit ${result.code}\n${result.stderr.slice(-400)}`)
          }
        }),
      )
    }
    assert.deepEqual(failures, [], 'every hostile name is refused with exit 2')
    assert.deepEqual(readdirSync(rel.dir).sort(), folders, 'no folder was created')
    assert.deepEqual(await branches(rel.repo), branchesBefore, 'no branch was created')
    assert.equal(registryBytes(rel.home), null, 'no registry was written')
    assert.deepEqual(pwnedFiles(rel.dir), [], 'nothing was executed')
    assert.equal(existsSync(join(rel.repo, '.env.sandbox')), false)
  })

  test('hostile config values exit 2 naming the config path, before anything is created or executed', {
    timeout: 180_000,
  }, async (t) => {
    const { dir, cleanup } = testdir('berth-rel-config-')
    t.after(cleanup)
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['project with a shell command', { project: 'a;touch${IFS}pwned' }, /project: /],
      ['project with a newline', { project: 'a\nb' }, /project: /],
      ['project with ..', { project: '../../etc' }, /project: /],
      ['project of 10 kB', { project: 'p'.repeat(10_240) }, /project: /],
      ['project in unicode', { project: 'café' }, /project: /],
      [
        'a base branch that is a git option',
        { worktree: { baseBranch: '--upload-pack=touch${IFS}pwned' } },
        /worktree\.baseBranch: /,
      ],
      ['a remote with a space', { worktree: { remote: 'origin; touch pwned' } }, /worktree\.remote: /],
      ['a port variable with a shell command', { ports: { 'API;touch${IFS}pwned': { base: 9000 } } }, /ports/],
      ['a port beyond 65535', { ports: { API_PORT: { base: 70_000 } } }, /ports\.API_PORT\.base: /],
      [
        'a secrets variable with a shell command',
        { secrets: { provider: 'none', defaults: { 'X;touch${IFS}pwned': 'v' } } },
        /secrets/,
      ],
      [
        'a pipeline step with a shell command',
        { pipelines: { impl: ['worktree.plan;touch${IFS}pwned'] } },
        /pipelines\.impl/,
      ],
      ['a gate check with no target', { gate: { checks: [{ name: 'x' }] } }, /gate\.checks\[0\]/],
      [
        'two port variables on one port',
        { ports: { API_PORT: { base: 9000 }, DNS_UDP_PORT: { base: 9000 } } },
        /ports\.DNS_UDP_PORT: maps to 9000, as API_PORT does/,
      ],
    ]
    const failures: string[] = []
    await Promise.all(
      cases.map(async ([label, config], index) => {
        const { repo } = await gitRepo(join(dir, `case${index}`), 'app')
        writeConfig(repo, { project: 'hostile', ports: { API_PORT: { base: 9000 } }, ...config })
        const home = join(dir, `case${index}`, 'home')
        const result = await berth(['impl', 'x', '--no-up'], { cwd: repo, home })
        const [, , pattern] = cases[index]!
        if (result.code !== 2 || !pattern.test(result.stderr))
          failures.push(`${label}: exit ${result.code}\n${result.stderr}`)
        if (existsSync(home)) failures.push(`${label}: BERTH_HOME was created`)
        if (readdirSync(join(dir, `case${index}`)).some((f) => f.includes('impl-x')))
          failures.push(`${label}: a worktree was made`)
      }),
    )
    assert.deepEqual(failures, [])
    assert.deepEqual(pwnedFiles(dir), [], 'nothing was executed')
  })

  test('hostile .env.sandbox contents make url and sandbox up exit 2 naming the file; nothing starts, nothing is executed', {
    timeout: 180_000,
  }, async (t) => {
    const rel: RelRepo = await relRepo('envfile')
    t.after(() => rel.cleanup())
    expectExit(await rel.run(['impl', 'h', '--no-up']), 0, 'impl h --no-up')
    const tree = rel.tree('h')
    const file = join(tree, '.env.sandbox')
    const original = readFileSync(file, 'utf8')
    const withValue = (key: string, value: string) =>
      original.replace(new RegExp(`^${key}=.*$`, 'm'), () => `${key}=${value}`)
    const cases: { label: string; text: string; commands: string[][]; message: RegExp }[] = [
      {
        label: 'a command substitution as the API port',
        text: withValue('KTRDR_API_PORT', '$(touch${IFS}pwned)'),
        commands: [['url'], ['sandbox', 'up']],
        message: /KTRDR_API_PORT in .*\.env\.sandbox/,
      },
      {
        label: 'full-width digits as the API port',
        text: withValue('KTRDR_API_PORT', '６１００１'),
        commands: [['url'], ['sandbox', 'up']],
        message: /KTRDR_API_PORT in .*\.env\.sandbox/,
      },
      {
        label: 'a 10 kB value',
        text: withValue('KTRDR_DB_PORT', '9'.repeat(10_240)),
        commands: [['sandbox', 'up']],
        message: /KTRDR_DB_PORT in .*\.env\.sandbox .*10240 characters/,
      },
      {
        label: 'a shell line',
        text: `${original}export PATH=/tmp/pwned:$PATH\n`,
        commands: [['sandbox', 'status'], ['sandbox', 'up'], ['url']],
        message: /\.env\.sandbox:\d+: expected KEY=value/,
      },
      {
        label: 'a line of shell commands',
        text: `${original}touch pwned; rm -rf /\n`,
        commands: [
          ['sandbox', 'status'],
          ['sandbox', 'up'],
        ],
        message: /\.env\.sandbox:\d+: expected KEY=value/,
      },
    ]
    const failures: string[] = []
    for (const { label, text, commands, message } of cases) {
      writeFileSync(file, text)
      for (const args of commands) {
        const result = await rel.run(args, { cwd: tree })
        if (result.code !== 2 || !message.test(result.stderr)) {
          failures.push(`${label}: berth ${args.join(' ')} exited ${result.code}\n${result.stderr.slice(-600)}`)
        }
      }
    }
    writeFileSync(file, `${original}INSTANCE_ID=../../etc\n`)
    const status = await rel.run(['sandbox', 'status', '--json'], { cwd: tree })
    expectExit(status, 0, 'sandbox status with INSTANCE_ID=../../etc')
    assert.equal(status.json.instance.id, rel.id('h'), 'the registered instance is used, not the planted id')
    writeFileSync(file, original)
    assert.deepEqual(failures, [])
    assert.deepEqual(await countProjectObjects(rel.id('h')), { containers: 0, volumes: 0, networks: 0 })
    assert.deepEqual(pwnedFiles(rel.dir), [], 'nothing was executed')
  })
})

describe('properties (fast-check)', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 80 }),
    fc.string({ unit: 'binary', maxLength: 80 }),
    fc.stringMatching(/^[a-zA-Z0-9._\-/\\ $`;|&*?"'{}()\n]{0,40}$/),
  )

  test('slugify only ever yields [a-z0-9._-], no "/" and no leading or trailing "-", and is idempotent', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const slug = slugify(input)
        assert.match(slug, /^[a-z0-9._-]*$/)
        assert.ok(!slug.startsWith('-') && !slug.endsWith('-'))
        assert.equal(slugify(slug), slug)
      }),
      { numRuns: 2000 },
    )
  })

  test('validateName either refuses with a UsageError or returns a name matching NAME_PATTERN with no "..", "/" or whitespace', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        let name: string
        try {
          name = validateName(input)
        } catch (error) {
          assert.ok(error instanceof UsageError, String(error))
          assert.equal(error.exitCode, 2)
          return
        }
        assert.match(name, NAME_PATTERN)
        assert.ok(!name.includes('..') && !name.includes('/') && !/\s/.test(name))
        assert.ok(!/[\s/\\]/.test(input) && !input.includes('..'), `accepted ${JSON.stringify(input)}`)
        // The instance id made from it is a valid compose project name.
        assert.match(instanceIdFor(name), /^[a-z0-9][a-z0-9_-]*$/)
      }),
      { numRuns: 2000 },
    )
  })

  test('parseFeatureName either refuses with a UsageError or gives a slug matching NAME_PATTERN and a branch part git accepts, with no "..", leading "/" or whitespace', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        let parsed: ReturnType<typeof parseFeatureName>
        try {
          parsed = parseFeatureName(input)
        } catch (error) {
          assert.ok(error instanceof UsageError, String(error))
          assert.equal(error.exitCode, 2)
          return
        }
        assert.match(parsed.slug, NAME_PATTERN)
        assert.equal(parsed.slug, parsed.branch.toLowerCase())
        assert.ok(
          !input.includes('..') && !input.startsWith('/') && !/[\s\\]/.test(input),
          `accepted ${JSON.stringify(input)}`,
        )
        assert.match(parsed.branch, /^[A-Za-z0-9][A-Za-z0-9._-]*$/)
        assert.ok(!parsed.branch.endsWith('.') && !parsed.branch.endsWith('.lock'))
        assert.match(instanceIdFor(`acme-impl-${parsed.slug}`), /^[a-z0-9][a-z0-9_-]*$/)
      }),
      { numRuns: 2000 },
    )
  })

  test('every valid name survives validateName unchanged', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,40}[a-z0-9]$/), (name) => {
        assert.equal(validateName(name), name)
      }),
    )
  })

  const portSpec = fc.record(
    {
      base: fc.integer({ min: 1, max: 65_535 }),
      stride: fc.integer({ min: 1, max: 1000 }),
      count: fc.integer({ min: 1, max: 6 }),
      slot0: fc.integer({ min: 1, max: 65_535 }),
    },
    { requiredKeys: ['base', 'stride', 'count'] },
  )
  const layout = fc.dictionary(fc.stringMatching(/^[A-Z][A-Z0-9_]{0,8}$/), portSpec, { minKeys: 1, maxKeys: 6 })

  test('a layout doctor calls sound never gives two slots (or two variables) one port, and every port is in 1..65535', () => {
    fc.assert(
      fc.property(layout, fc.integer({ min: 0, max: 30 }), (ports: PortLayout, maxSlot) => {
        const problems = layoutProblems(ports, maxSlot)
        const seen = new Map<number, string>()
        let clash = false
        for (let slot = 0; slot <= maxSlot; slot++) {
          for (const [name, port] of Object.entries(slotPorts(ports, slot))) {
            if (port < 1 || port > 65_535 || seen.has(port)) clash = true
            seen.set(port, `${name}@${slot}`)
          }
        }
        // Sound exactly when no port is shared or out of range (duplicate generated names aside).
        if (problems.length === 0) assert.equal(clash, false, JSON.stringify(ports))
        if (clash) assert.ok(problems.length > 0, JSON.stringify(ports))
      }),
      { numRuns: 1000 },
    )
  })

  test('the KTRDR preset and a single base+slot variable are sound for slots 0..10', () => {
    const ktrdr: PortLayout = {
      KTRDR_API_PORT: { base: 8000, stride: 1, count: 1 },
      KTRDR_DB_PORT: { base: 5432, stride: 1, count: 1 },
      KTRDR_GRAFANA_PORT: { base: 3000, stride: 1, count: 1 },
      KTRDR_JAEGER_UI_PORT: { base: 16686, stride: 1, count: 1 },
      KTRDR_JAEGER_OTLP_GRPC_PORT: { base: 4317, stride: 10, count: 1 },
      KTRDR_JAEGER_OTLP_HTTP_PORT: { base: 4318, stride: 10, count: 1 },
      KTRDR_PROMETHEUS_PORT: { base: 9090, stride: 1, count: 1 },
      KTRDR_WORKER_PORT: { base: 4997, stride: 10, count: 4, slot0: 5003 },
    }
    assert.deepEqual(layoutProblems(ktrdr, 10), [])
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65_535 - 100 }), fc.integer({ min: 0, max: 100 }), (base, maxSlot) => {
        assert.deepEqual(layoutProblems({ API: { base, stride: 1, count: 1 } }, maxSlot), [])
      }),
    )
  })
})

describe('what doctor --fix may remove', () => {
  const orphan = (project: string, workingDirs: string[] = []) => ({
    project,
    containers: 1,
    running: 1,
    volumes: [],
    services: ['db'],
    networks: [],
    workingDirs,
  })

  test('only stacks named <project>-impl-* or <project>-spec-* whose checkout is gone', () => {
    assert.deepEqual(orphanVerdict(orphan('acme-impl-x', ['/nonexistent/acme-impl-x']), 'acme'), { remove: true })
    assert.deepEqual(orphanVerdict(orphan('acme-spec-x'), 'acme'), { remove: true })
    const alive = orphanVerdict(orphan('acme-impl-x', [process.cwd()]), 'acme')
    assert.equal(alive.remove, false)
    // Another repository whose project merely starts with ours is never matched.
    const foreign = orphanVerdict(orphan('acme-tools-impl-x'), 'acme')
    assert.equal(foreign.remove, false)
    assert.equal(orphanVerdict(orphan('acme-2'), 'acme').remove, false)
  })
})
