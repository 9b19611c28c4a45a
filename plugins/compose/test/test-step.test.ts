import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { UsageError, utcStamp } from '@berth/contract'
import { runStep } from '@berth/contract/testing'
import {
  composeConfigSchema,
  composeEnvironment,
  composePlugin,
  composeProjectName,
  composeTestConfigSchema,
  type E2eReport,
  sweepProject,
  testSection,
} from '../src/index.js'
import { type ContextInput, makeContext, makeInstance } from './helpers/context.js'
import { ensureTestImage, TEST_IMAGE, uniqueProject, watchCommandLines } from './helpers/engine.js'

/**
 * A web server and, under profile `test`, a tester that reaches it by service name, writes an
 * artifact and exits with `TEST_EXIT` (default 0). No host ports: the test runs inside the network.
 */
const TEST_COMPOSE = `services:
  web:
    image: ${TEST_IMAGE}
    command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
    stop_signal: SIGKILL
  tester:
    image: ${TEST_IMAGE}
    profiles: ["test"]
    stop_signal: SIGKILL
    environment:
      TEST_SECRET: "\${TEST_SECRET}"
      TEST_EXIT: "\${TEST_EXIT:-0}"
      INSTANCE_ID: "\${INSTANCE_ID}"
    command:
      - /bin/busybox
      - sh
      - -c
      - >-
        echo "instance $$INSTANCE_ID token=$$TEST_SECRET";
        /bin/busybox wget -q -O - http://web:8080/ > /artifacts/page.txt &&
        mkdir -p /artifacts/sub && echo nested > /artifacts/sub/more.txt;
        echo "exiting $$TEST_EXIT"; exit $$TEST_EXIT
    volumes:
      - \${BERTH_ARTIFACTS_DIR:-./.sandbox/artifacts}:/artifacts
    depends_on: [web]
`

const captured = { stdout: '', stderr: '' }
function recorder(stream: 'stdout' | 'stderr') {
  return {
    write(text: string | Uint8Array): boolean {
      captured[stream] += String(text)
      return true
    },
  }
}
const plugin = composePlugin({ logsOutput: { stdout: recorder('stdout'), stderr: recorder('stderr') } })

describe('compose.test against the real Docker engine', () => {
  const id = uniqueProject('composetest-e2e')
  const secret = `sekrit-${randomBytes(8).toString('hex')}`
  let root: string

  const contextFor = (extra: Partial<ContextInput> = {}) => {
    const ctx = makeContext({
      root,
      project: 'composetest',
      instance: makeInstance(id, root),
      env: { INSTANCE_ID: id, COMPOSE_PROJECT_NAME: id, SLOT_NUMBER: '1' },
      secretEnv: { TEST_SECRET: secret },
      task: 'test.e2e',
      ...extra,
    })
    ctx.config.sections.test = testSection.schema.parse({ service: 'tester' })
    return ctx
  }

  before(async () => {
    await ensureTestImage()
    root = mkdtempSync(join(tmpdir(), 'berth-compose-test-step-'))
    writeFileSync(join(root, 'compose.yaml'), TEST_COMPOSE)
  })

  after(async () => {
    await sweepProject(composeProjectName(id)).catch(() => {})
    if (root) rmSync(root, { recursive: true, force: true })
  })

  test('runs the test service on the instance network, streams its output redacted and collects its artifacts', async () => {
    captured.stdout = ''
    captured.stderr = ''
    const ctx = contextFor()
    const watch = watchCommandLines(secret)
    try {
      await runStep(plugin.steps.test, ctx)
    } finally {
      watch.stop()
    }
    const report = ctx.output.e2e as E2eReport
    assert.equal(report.service, 'tester')
    assert.equal(report.exitCode, 0)
    assert.equal(report.passed, true)
    assert.equal(ctx.exitCode, 0)
    assert.equal(dirname(report.artifactsDir), join(root, '.sandbox', 'artifacts'))
    assert.match(report.artifactsDir, /\/\d{8}T\d{6}Z(-\d+)?$/)
    assert.deepEqual(report.files, ['page.txt', 'sub/more.txt'])
    assert.equal(readFileSync(join(report.artifactsDir, 'page.txt'), 'utf8'), 'ok\n')
    assert.match(captured.stdout, new RegExp(`instance ${id} token=\\*\\*\\*`))
    assert.match(captured.stdout, /exiting 0/)
    assert.ok(!captured.stdout.includes(secret) && !captured.stderr.includes(secret), 'the secret was printed')
    assert.deepEqual(watch.hits, [], 'the secret appeared in a command line')
    assert.ok(
      watch.composeSeen.some((argv) => argv.includes('run --rm -T tester')),
      watch.composeSeen.join('\n'),
    )
  })

  test('a failing test sets the exit code instead of throwing, and its artifacts are still listed', async () => {
    const ctx = contextFor()
    process.env.TEST_EXIT = '3'
    try {
      await runStep(plugin.steps.test, ctx)
    } finally {
      delete process.env.TEST_EXIT
    }
    const report = ctx.output.e2e as E2eReport
    assert.equal(report.exitCode, 3)
    assert.equal(report.passed, false)
    assert.equal(ctx.exitCode, 3)
    assert.deepEqual(report.files, ['page.txt', 'sub/more.txt'])
  })

  test('arguments after -- replace the service command, and --json sends the output to stderr', async () => {
    captured.stdout = ''
    captured.stderr = ''
    const ctx = contextFor({
      positionals: ['/bin/busybox', 'sh', '-c', 'echo args-reached; exit 5'],
      json: true,
    })
    await runStep(plugin.steps.test, ctx)
    assert.equal((ctx.output.e2e as E2eReport).exitCode, 5)
    assert.equal(ctx.exitCode, 5)
    assert.equal(captured.stdout, '')
    assert.match(captured.stderr, /args-reached/)
  })

  test('--service and test.service choose the service; an unknown one is a usage error', async () => {
    const flagged = contextFor({ flags: { service: 'nosuch' } })
    await assert.rejects(
      async () => runStep(plugin.steps.test, flagged),
      (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.match(error.message, /no service "nosuch"/)
        return true
      },
    )
    const configured = contextFor()
    configured.config.sections.test = testSection.schema.parse({ service: 'also-missing' })
    await assert.rejects(async () => runStep(plugin.steps.test, configured), /no service "also-missing"/)
    const serviceFlag = plugin.steps.test.flags?.service as { schema?: { safeParse(v: unknown): { success: boolean } } }
    assert.equal(serviceFlag.schema?.safeParse('../x').success, false, '--service ../x exits 2 before any step')
  })
})

describe('compose.test config and telemetry identity', () => {
  test('the test section defaults to service e2e and .sandbox/artifacts, and refuses folders outside the instance', () => {
    assert.deepEqual(composeTestConfigSchema.parse(undefined), { service: 'e2e', artifacts: '.sandbox/artifacts' })
    assert.equal(composeTestConfigSchema.safeParse({ artifacts: '../elsewhere' }).success, false)
    assert.equal(composeTestConfigSchema.safeParse({ artifacts: '/tmp/x' }).success, false)
    assert.equal(composeTestConfigSchema.safeParse({ service: 'a b' }).success, false)
  })

  test('the compose environment carries INSTANCE_ID, SLOT_NUMBER and the OTEL resource attributes', () => {
    const env = composeEnvironment({
      instance: { id: 'acme-impl-a', kind: 'impl', slot: 1 },
      env: {},
      secretEnv: {},
      baseEnv: { INSTANCE_ID: 'some-other-instance', OTEL_RESOURCE_ATTRIBUTES: 'team=core' },
    })
    assert.equal(env.INSTANCE_ID, 'acme-impl-a')
    assert.equal(env.SLOT_NUMBER, '1')
    assert.equal(env.OTEL_RESOURCE_ATTRIBUTES, 'instance.id=acme-impl-a,deployment.environment=sandbox,team=core')
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, undefined)
  })

  test('observability mode shared points every instance at the one collector', () => {
    const config = composeConfigSchema.parse({
      observability: { mode: 'shared', endpoint: 'http://host.docker.internal:4318' },
    })
    for (const slot of [1, 2]) {
      const env = composeEnvironment({
        instance: { id: `acme-${slot}`, kind: 'impl', slot },
        env: {},
        secretEnv: {},
        baseEnv: {},
        observability: config.observability,
      })
      assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://host.docker.internal:4318')
      assert.match(String(env.OTEL_RESOURCE_ATTRIBUTES), new RegExp(`^instance.id=acme-${slot},`))
    }
    assert.deepEqual(composeConfigSchema.parse({}).observability, { mode: 'per-instance' })
    const missing = composeConfigSchema.safeParse({ observability: { mode: 'shared' } })
    assert.equal(missing.success, false)
    assert.deepEqual(missing.error?.issues[0]?.path, ['observability', 'endpoint'])
  })

  test('artifact folders are named by UTC time, sortable', () => {
    assert.equal(utcStamp(new Date('2026-11-22T18:55:12.345Z')), '20261122T185512Z')
    assert.ok(utcStamp(new Date('2026-11-22T18:55:12Z')) < utcStamp(new Date('2026-11-22T18:55:13Z')))
  })
})
