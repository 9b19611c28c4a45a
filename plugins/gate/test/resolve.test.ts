import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { UsageError } from '@berth/contract'
import {
  GATE_VERSION,
  gatePlugin,
  jsonExpectationProblem,
  parseGateConfig,
  resolveChecks,
  resolveTimeoutMs,
  timeoutSecondsSchema,
} from '../src/index.js'

const env = { ACME_STORE_PORT: '6601', ACME_API_PORT: '9101', API_URL: 'http://localhost:9101/' }

describe('resolveChecks', () => {
  test('replaces ${VAR} from the instance env and decides each check kind', () => {
    const config = parseGateConfig({
      checks: [
        { name: 'store', tcp: '${ACME_STORE_PORT}', service: 'store' },
        { name: 'api', http: 'http://127.0.0.1:${ACME_API_PORT}/healthz', after: ['store'], timeout: 2.5 },
        { name: 'workers', http: '${API_URL}workers', expect: { path: 'data.workers', minItems: 2 } },
        { name: 'loopback6', tcp: '[::1]:${ACME_STORE_PORT}' },
        { name: 'whole', http: '${API_URL}' },
      ],
    })
    const checks = resolveChecks(config, env)
    assert.deepEqual(checks[0], {
      name: 'store',
      kind: 'tcp',
      host: '127.0.0.1',
      port: 6601,
      target: '127.0.0.1:6601',
      after: [],
      service: 'store',
      timeoutMs: undefined,
    })
    assert.equal(checks[1]?.kind, 'http')
    assert.equal(checks[1]?.target, 'http://127.0.0.1:9101/healthz')
    assert.equal(checks[1]?.timeoutMs, 2500)
    assert.equal(checks[2]?.kind, 'json')
    assert.equal(checks[2]?.target, 'http://localhost:9101/workers')
    assert.equal(checks[3]?.target, '[::1]:6601')
    assert.equal(checks[4]?.target, 'http://localhost:9101/')
  })

  test('an unknown variable is a usage error naming the check and the variable', () => {
    const config = parseGateConfig({ checks: [{ name: 'api', http: 'http://127.0.0.1:${ACME_APi_PORT}/healthz' }] })
    assert.throws(
      () => resolveChecks(config, env),
      (error: unknown) =>
        error instanceof UsageError &&
        error.exitCode === 2 &&
        error.message.includes('"api"') &&
        error.message.includes('ACME_APi_PORT') &&
        error.details?.variable === 'ACME_APi_PORT',
    )
  })

  test('does not read the process environment for variables', () => {
    process.env.GATE_TEST_ONLY_IN_PROCESS = '5433'
    const config = parseGateConfig({ checks: [{ name: 'db', tcp: '${GATE_TEST_ONLY_IN_PROCESS}' }] })
    assert.throws(() => resolveChecks(config, {}), UsageError)
    delete process.env.GATE_TEST_ONLY_IN_PROCESS
  })

  test('a variable that resolves to a non-loopback URL or a bad port is rejected', () => {
    const remote = parseGateConfig({ checks: [{ name: 'api', http: '${API_URL}' }] })
    assert.throws(
      () => resolveChecks(remote, { API_URL: 'http://10.1.2.3/' }),
      /host "10.1.2.3" must be a loopback host/,
    )
    const badPort = parseGateConfig({ checks: [{ name: 'db', tcp: '${DB_PORT}' }] })
    assert.throws(() => resolveChecks(badPort, { DB_PORT: 'five' }), /gate check "db": tcp "five" is not a port/)
  })
})

describe('resolveChecks for postgres and redis', () => {
  test('credentials come from the secrets, targets from .env.sandbox only, and no target holds a password', () => {
    const config = parseGateConfig({
      checks: [
        {
          name: 'db',
          postgres: { target: '${DB_PORT}', user: 'app', password: '${DB_PASSWORD}', database: 'appdb' },
          service: 'db',
        },
        { name: 'db-short', postgres: '127.0.0.1:${DB_PORT}' },
        { name: 'queue', redis: { target: '${REDIS_PORT}', user: 'worker', password: '${REDIS_PASSWORD}' } },
        { name: 'queue-open', redis: '${REDIS_PORT}' },
      ],
    })
    const secrets = { DB_PASSWORD: 's3cr3t/with@odd:chars', REDIS_PASSWORD: 'r3dis' }
    const [db, short, queue, open] = resolveChecks(config, { DB_PORT: '5433', REDIS_PORT: '6380' }, secrets)
    assert.deepEqual(db, {
      name: 'db',
      kind: 'postgres',
      host: '127.0.0.1',
      port: 5433,
      user: 'app',
      password: 's3cr3t/with@odd:chars',
      database: 'appdb',
      target: 'postgres://app@127.0.0.1:5433/appdb',
      after: [],
      service: 'db',
      timeoutMs: undefined,
    })
    assert.equal(short?.target, 'postgres://postgres@127.0.0.1:5433/postgres')
    assert.equal(short?.kind === 'postgres' ? short.password : 'not postgres', undefined)
    assert.equal(queue?.target, 'redis://worker@127.0.0.1:6380')
    assert.equal(queue?.kind === 'redis' ? queue.password : undefined, 'r3dis')
    assert.equal(open?.target, 'redis://127.0.0.1:6380')
    for (const check of [db, short, queue, open]) {
      assert.doesNotMatch(check?.target ?? '', /s3cr3t|r3dis/)
    }
  })

  test('a target may not come from a secret, and a missing secret names the variable, never a value', () => {
    const fromSecret = parseGateConfig({ checks: [{ name: 'db', postgres: '${DB_PORT}' }] })
    assert.throws(
      () => resolveChecks(fromSecret, {}, { DB_PORT: '5433' }),
      /variable DB_PORT in postgres "\$\{DB_PORT\}"/,
    )
    const noSecret = parseGateConfig({
      checks: [{ name: 'db', postgres: { target: 5433, password: '${DB_PASSWORD}' } }],
    })
    assert.throws(
      () => resolveChecks(noSecret, {}, {}),
      (error: unknown) =>
        error instanceof UsageError &&
        /gate check "db": variable DB_PASSWORD in postgres\.password "\$\{DB_PASSWORD\}" is not set/.test(
          error.message,
        ) &&
        /secrets\.fields/.test(error.hint ?? ''),
    )
  })
})

describe('json expectations', () => {
  test('count, path and equality conditions explain what they saw', () => {
    const document = { data: { workers: [{ id: 1 }, { id: 2 }], status: 'starting' }, items: [{ state: 'ok' }] }
    assert.equal(jsonExpectationProblem(document, { path: 'data.workers', minItems: 2 }), null)
    assert.equal(
      jsonExpectationProblem(document, { path: 'data.workers', minItems: 4 }),
      'data.workers has 2 items, want at least 4',
    )
    assert.equal(jsonExpectationProblem(document, { path: 'data', minItems: 1 }), 'data is an object, not an array')
    assert.equal(jsonExpectationProblem(document, { path: 'data.missing' }), 'data.missing is missing')
    assert.equal(
      jsonExpectationProblem(document, { path: 'data.status', equals: 'ok' }),
      'data.status is "starting", want "ok"',
    )
    assert.equal(jsonExpectationProblem(document, { path: 'items.0.state', equals: 'ok' }), null)
    assert.equal(jsonExpectationProblem([1, 2, 3], { minItems: 3 }), null)
  })
})

describe('--timeout', () => {
  test('the flag in seconds wins over the config; non-positive or non-numeric values are refused', () => {
    assert.equal(resolveTimeoutMs(undefined, 120), 120_000)
    assert.equal(resolveTimeoutMs(timeoutSecondsSchema.parse('5'), 120), 5000)
    assert.equal(resolveTimeoutMs(timeoutSecondsSchema.parse(' 0.5 '), 120), 500)
    for (const bad of ['0', '-3', 'soon', '', '1e3', 'abc']) {
      const parsed = timeoutSecondsSchema.safeParse(bad)
      assert.equal(parsed.success, false, bad)
      assert.match(parsed.error?.issues[0]?.message ?? '', /positive number of seconds/)
    }
  })
})

describe('plugin object', () => {
  test('is named berth:gate, owns the gate section, has a wait step without undo and the package version', () => {
    const plugin = gatePlugin()
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
    assert.equal(plugin.name, 'berth:gate')
    assert.equal(plugin.version, pkg.version)
    assert.equal(GATE_VERSION, pkg.version)
    assert.deepEqual(
      plugin.sections?.map((s) => s.name),
      ['gate'],
    )
    assert.deepEqual(Object.keys(plugin.steps), ['wait'])
    assert.equal(plugin.steps.wait?.undo, undefined)
  })
})
