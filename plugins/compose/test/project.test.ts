import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { EnvironmentError, UsageError } from '@berth/contract'
import {
  COMPOSE_PLUGIN_VERSION,
  composeArgs,
  composeConfigSchema,
  composeEnvironment,
  composePlugin,
  composeProjectName,
  detectComposeFlavour,
  mergeResourceAttributes,
  resolveComposeFiles,
} from '../src/index.js'

describe('compose project identity', () => {
  test('the project name is the instance id, normalised to what both compose flavours accept', () => {
    assert.equal(composeProjectName('acme-impl-login'), 'acme-impl-login')
    assert.equal(composeProjectName('Acme.v2_impl'), 'acmev2_impl')
  })

  test('argv carries only the project, files, profiles and command — never values', () => {
    const argv = composeArgs({ project: 'acme-1', files: ['/w/a.yaml', '/w/b.yaml'], profiles: ['obs'] }, ['up', '-d'])
    assert.deepEqual(argv, ['-p', 'acme-1', '-f', '/w/a.yaml', '-f', '/w/b.yaml', '--profile', 'obs', 'up', '-d'])
  })

  test('the compose environment layers process env, .env.sandbox, secrets and the telemetry identity', () => {
    const env = composeEnvironment({
      instance: { id: 'acme-impl-x', kind: 'impl', slot: 2 },
      env: { ACME_API_PORT: '9102', SHARED: 'from-env-file' },
      secretEnv: { ACME_DB_PASSWORD: 's3cret', SHARED: 'from-secrets' },
      baseEnv: { PATH: '/bin', ACME_API_PORT: '1', OTEL_RESOURCE_ATTRIBUTES: 'service.namespace=acme,instance.id=old' },
    })
    assert.equal(env.PATH, '/bin')
    assert.equal(env.ACME_API_PORT, '9102')
    assert.equal(env.SHARED, 'from-secrets')
    assert.equal(env.ACME_DB_PASSWORD, 's3cret')
    assert.equal(env.SLOT_NUMBER, '2')
    assert.equal(
      env.OTEL_RESOURCE_ATTRIBUTES,
      'instance.id=acme-impl-x,deployment.environment=sandbox,service.namespace=acme',
    )
  })

  test('local-prod instances report deployment.environment=local-prod', () => {
    const env = composeEnvironment({
      instance: { id: 'acme', kind: 'local-prod', slot: 0 },
      env: {},
      secretEnv: {},
      baseEnv: {},
    })
    assert.equal(env.OTEL_RESOURCE_ATTRIBUTES, 'instance.id=acme,deployment.environment=local-prod')
    assert.equal(env.SLOT_NUMBER, '0')
  })

  test('resource attributes from .env.sandbox win over the process environment', () => {
    assert.equal(mergeResourceAttributes('a=1, b = 2,,broken', { b: '3' }), 'b=3,a=1')
  })
})

describe('compose file resolution', () => {
  test('configured files are re-rooted from the main checkout into the instance checkout', () => {
    const files = resolveComposeFiles({
      files: ['compose.yaml', 'deploy/compose.obs.yaml', '/opt/shared/compose.yaml'],
      configRoot: '/repo/app',
      repoRoot: '/repo',
      instancePath: '/work/repo-impl-x',
    })
    assert.deepEqual(files, [
      '/work/repo-impl-x/app/compose.yaml',
      '/work/repo-impl-x/app/deploy/compose.obs.yaml',
      '/opt/shared/compose.yaml',
    ])
  })

  test('the default is compose.yaml when the checkout has it, else docker-compose.yml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-compose-files-'))
    try {
      const instance = join(dir, 'instance')
      mkdirSync(instance)
      const location = {
        files: undefined,
        configRoot: join(dir, 'repo'),
        repoRoot: join(dir, 'repo'),
        instancePath: instance,
      }
      assert.deepEqual(resolveComposeFiles(location), [join(instance, 'docker-compose.yml')])
      writeFileSync(join(instance, 'compose.yaml'), 'services: {}\n')
      assert.deepEqual(resolveComposeFiles(location), [join(instance, 'compose.yaml')])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('compose config', () => {
  test('an absent section resolves to complete defaults', () => {
    assert.deepEqual(composeConfigSchema.parse(undefined), {
      profiles: [],
      lint: {
        enabled: true,
        strict: false,
        allowFixedPorts: [],
        allowShared: [],
        allowMounts: [],
        allowAllInterfaces: [],
        allowHostAccess: [],
      },
      render: { enabled: true, hostIp: '127.0.0.1' },
      observability: { mode: 'per-instance' },
      limits: {},
      destroyGrace: 3,
    })
  })

  test('compose.limits takes a memory size and a CPU count; a size compose cannot read is refused with its path', () => {
    assert.deepEqual(composeConfigSchema.parse({ limits: { memory: '512m', cpus: 1.5 } }).limits, {
      memory: '512m',
      cpus: 1.5,
    })
    const result = composeConfigSchema.safeParse({ limits: { memory: 'lots', cpus: 0 } })
    assert.equal(result.success, false)
    assert.deepEqual(result.error?.issues.map((issue) => issue.path.join('.')).sort(), ['limits.cpus', 'limits.memory'])
  })

  test('unknown keys and empty file lists are refused with their path', () => {
    const result = composeConfigSchema.safeParse({ files: [], lint: { allowFixedPort: ['api'] } })
    assert.equal(result.success, false)
    const paths = result.error?.issues.map((issue) => issue.path.join('.')).sort()
    assert.deepEqual(paths, ['files', 'lint'])
  })

  test('the plugin is named berth:compose, owns the compose section and matches its package version', () => {
    const plugin = composePlugin()
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.equal(plugin.name, 'berth:compose')
    assert.equal(plugin.version, pkg.version)
    assert.equal(COMPOSE_PLUGIN_VERSION, pkg.version)
    assert.deepEqual(
      plugin.sections?.map((section) => section.name),
      ['compose', 'hooks', 'test', 'workspace'],
    )
    assert.deepEqual(Object.keys(plugin.steps).sort(), [
      'afterUp',
      'beforeDown',
      'destroy',
      'down',
      'exec',
      'lint',
      'list',
      'logs',
      'render',
      'run',
      'shell',
      'status',
      'test',
      'up',
    ])
    assert.equal(typeof plugin.steps.up.undo, 'function')
  })
})

describe('compose flavour detection', () => {
  test('finds docker-compose v1 on this machine and caches the answer', async () => {
    const first = await detectComposeFlavour({
      env: { ...process.env, BERTH_COMPOSE: 'v1' },
      refresh: true,
      withVersion: true,
    })
    assert.equal(first.flavour, 'v1')
    assert.equal(first.label, 'docker-compose')
    assert.match(first.command.join(' '), /\/docker-compose$/)
    assert.match(first.version, /^1\.\d+\.\d+/)
    assert.equal(
      detectComposeFlavour({ env: { ...process.env, BERTH_COMPOSE: 'v1' } }),
      detectComposeFlavour({ env: { ...process.env, BERTH_COMPOSE: 'v1' } }),
    )
    const auto = await detectComposeFlavour({ env: { PATH: process.env.PATH } })
    assert.ok(auto.flavour === 'v2' || auto.flavour === 'v1')
  })

  test('BERTH_COMPOSE=v2 uses only the docker compose plugin, and its absence is an environment error', async () => {
    const outcome = await detectComposeFlavour({ env: { ...process.env, BERTH_COMPOSE: 'v2' }, refresh: true }).then(
      (flavour) => flavour,
      (error: unknown) => error as Error,
    )
    if (outcome instanceof Error) {
      assert.ok(outcome instanceof EnvironmentError)
      assert.equal(outcome.exitCode, 4)
      assert.match(outcome.message, /'docker compose'/)
      assert.doesNotMatch(outcome.message, /docker-compose/)
    } else {
      // The plugin binary itself, run standalone: no docker CLI in between.
      assert.equal(outcome.label, 'docker compose')
      assert.match(outcome.command.join(' '), /cli-plugins\/docker-compose$/)
    }
  })

  test('an unknown BERTH_COMPOSE value is a usage error', async () => {
    await assert.rejects(detectComposeFlavour({ env: { BERTH_COMPOSE: 'v3' } }), UsageError)
  })
})
