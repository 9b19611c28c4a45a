import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ConfigError } from '@berth/contract'
import { portsPlugin } from '@berth/ports'
import { registryPlugin } from '@berth/registry'
import { findConfig, findJsonConfig, parseCore, resolveConfig, resolveConfigLazily } from '../src/config/load.js'
import { applyPresets, KTRDR_PORTS } from '../src/config/presets.js'
import { formatIssues } from '../src/config/schema.js'

const root = realpathSync(mkdtempSync(join(tmpdir(), 'berth-tasks-config-')))
after(() => rmSync(root, { recursive: true, force: true }))
let counter = 0
function folder(files: Record<string, string> = {}): string {
  const dir = join(root, `case-${++counter}`)
  mkdirSync(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const plugins = () => [portsPlugin(), registryPlugin()]

function problemsOf(fn: () => unknown): string[] {
  try {
    fn()
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`)
    assert.equal(error.exitCode, 2)
    return error.problems
  }
  assert.fail('expected a ConfigError')
}

describe('resolveConfig', () => {
  test('reports every problem at once, each with its path', () => {
    const raw = { slots: { pool: 'x' }, ports: { 'bad-name': { base: 30000 } }, gatee: true }
    const problems = problemsOf(() => resolveConfig({ raw, file: '/repo/berth.config.json' }, plugins(), '/repo'))
    assert.equal(problems.length, 3, problems.join('\n'))
    assert.ok(problems.some((p) => p.startsWith('slots.pool: ')))
    assert.ok(
      problems.includes('ports.bad-name: invalid key: must be an environment variable name like API_PORT'),
      problems.join('\n'),
    )
    assert.ok(problems.some((p) => p.startsWith('gatee: unknown key')))
  })

  test('fills the KTRDR ports preset and the slot defaults when the sections are absent', () => {
    const config = resolveConfig({ raw: {}, file: null }, plugins(), '/work/My Repo')
    assert.equal(config.project, 'my-repo', 'the project defaults to the repository folder, slugged')
    assert.deepEqual(config.sections.slots, { pool: [1, 2], max: 10, reserved: [0] })
    const ports = config.sections.ports as Record<string, { base: number }>
    assert.deepEqual(Object.keys(ports), Object.keys(KTRDR_PORTS))
    assert.deepEqual(ports.KTRDR_WORKER_PORT, { base: 4997, stride: 10, count: 4, slot0: 5003 })
  })

  test("keeps a user's own ports section instead of the preset", () => {
    const config = resolveConfig(
      { raw: { project: 'acme', ports: { ACME_API_PORT: { base: 9100 } } }, file: '/r/berth.config.json' },
      plugins(),
      '/r',
    )
    assert.equal(config.project, 'acme')
    assert.deepEqual(config.sections.ports, { ACME_API_PORT: { base: 9100, stride: 1, count: 1 } })
    assert.equal(config.root, '/r')
  })

  test('applyPresets leaves a config with ports untouched', () => {
    const raw = { ports: {} }
    assert.equal(applyPresets(raw, new Set(['ports'])), raw)
  })
})

describe('parseCore', () => {
  test('rejects a malformed pipeline edit with its path before any plugin loads', () => {
    const problems = problemsOf(() =>
      parseCore({ pipelines: { 'sandbox.init': { insert: [{ step: 'probe.fail' }] } } }, 'berth.config.json'),
    )
    assert.deepEqual(problems, ['pipelines.sandbox.init.insert[0]: give exactly one of before/after'])
  })
})

describe('formatIssues', () => {
  test('writes array indices in brackets', () => {
    const formatted = formatIssues([
      { code: 'custom', path: ['gate', 'checks', 2, 'url'], message: 'Invalid url', input: 1 },
    ])
    assert.deepEqual(formatted, ['gate.checks[2].url: Invalid url'])
  })
})

describe('findConfig', () => {
  test('reads berth.config.ts in a folder that is not an ES module package', async () => {
    const dir = folder({ 'berth.config.ts': 'export default { project: "tsproj", slots: { max: 4 } }\n' })
    const found = await findConfig(dir, dir)
    assert.deepEqual(found.raw, { project: 'tsproj', slots: { max: 4 } })
    assert.equal(found.file, join(dir, 'berth.config.ts'))
  })

  test('reads berth.config.ts in a "type": "module" package', async () => {
    const dir = folder({
      'package.json': '{"type":"module"}',
      'berth.config.ts': 'const config: { project: string } = { project: "esm" }\nexport default config\n',
    })
    assert.deepEqual((await findConfig(dir, dir)).raw, { project: 'esm' })
  })

  test('finds the config in a parent folder up to the stop folder, and none above it', async () => {
    const dir = folder({ 'berth.config.json': '{"project":"parent"}' })
    mkdirSync(join(dir, 'sub', 'deeper'), { recursive: true })
    assert.deepEqual((await findConfig(join(dir, 'sub', 'deeper'), dir)).raw, { project: 'parent' })
    assert.deepEqual(await findConfig(join(dir, 'sub', 'deeper'), join(dir, 'sub')), { raw: {}, file: null })
  })

  test('reads a JSON config without cosmiconfig, in its search order; other kinds and broken JSON go to cosmiconfig', async () => {
    const dir = folder({ 'package.json': '{"name":"x","berth":{"project":"frompkg"}}', 'berth.config.json': '{}' })
    assert.deepEqual(findJsonConfig(dir, dir), { raw: { project: 'frompkg' }, file: join(dir, 'package.json') })
    const plain = folder({ 'package.json': '{"name":"x"}', 'berth.config.json': '{"project":"json"}' })
    assert.deepEqual(findJsonConfig(plain, plain)?.raw, { project: 'json' })
    const yaml = folder({ '.berthrc.yaml': 'project: yamlproj\n', 'berth.config.json': '{"project":"json"}' })
    assert.equal(findJsonConfig(yaml, yaml), undefined)
    assert.deepEqual((await findConfig(yaml, yaml)).raw, { project: 'yamlproj' })
    const broken = folder({ 'berth.config.json': '{"project": ' })
    assert.equal(findJsonConfig(broken, broken), undefined)
    await assert.rejects(findConfig(broken, broken), /cannot read the berth config/)
  })
})

describe('resolveConfigLazily', () => {
  test('validates a section only when it is read, reporting its paths as resolveConfig does', () => {
    const raw = { ports: { API_PORT: { base: 'high' } }, slots: { max: 4 } }
    const config = resolveConfigLazily({ raw, file: '/repo/berth.config.json' }, plugins(), '/repo')
    assert.equal(config.project, 'repo')
    assert.equal((config.sections.slots as { max: number }).max, 4)
    assert.deepEqual(
      problemsOf(() => config.sections.ports),
      problemsOf(() => resolveConfig({ raw, file: '/repo/berth.config.json' }, plugins(), '/repo')),
    )
  })

  test('refuses unknown top-level keys and a bad project at once', () => {
    const problems = problemsOf(() =>
      resolveConfigLazily({ raw: { project: 'Bad Name', gatee: 1 }, file: null }, plugins(), '/repo'),
    )
    assert.equal(problems.length, 2, problems.join('\n'))
    assert.match(problems.join('\n'), /gatee: unknown key/)
    assert.match(problems.join('\n'), /project:/)
  })
})
