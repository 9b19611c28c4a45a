import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { ConfigError } from '@berth/contract'
import { gateConfigSchema, parseGateConfig } from '../src/index.js'

function problemsOf(input: unknown): string[] {
  try {
    parseGateConfig(input)
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`)
    assert.equal(error.exitCode, 2)
    return error.problems
  }
  assert.fail('expected the config to be rejected')
}

describe('gate config', () => {
  test('a missing section means a 120 s deadline and no checks', () => {
    assert.deepEqual(gateConfigSchema.parse(undefined), { timeout: 120, checks: [] })
    assert.deepEqual(parseGateConfig({ timeout: 30 }), { timeout: 30, checks: [] })
  })

  test('accepts the design example and fills after with []', () => {
    const config = parseGateConfig({
      timeout: 60,
      checks: [
        { name: 'store', tcp: '${ACME_STORE_PORT}' },
        { name: 'api', http: 'http://127.0.0.1:${ACME_API_PORT}/healthz', after: ['store'] },
        { name: 'workers', http: 'http://127.0.0.1:${ACME_API_PORT}/workers', expect: { minItems: 2 }, after: ['api'] },
        { name: 'jaeger', http: 'http://localhost:16687/', expect: { status: [200, 302] }, service: 'jaeger' },
        { name: 'v6', tcp: '[::1]:5433' },
        { name: 'plain', tcp: 5434, timeout: 5 },
        { name: 'whole', http: '${API_URL}' },
      ],
    })
    assert.deepEqual(config.checks[0], { name: 'store', tcp: '${ACME_STORE_PORT}', after: [] })
    assert.deepEqual(config.checks[2]?.after, ['api'])
    assert.equal(config.checks.length, 7)
  })

  test('re-parsing a parsed section gives the same section (the runner may parse before the step does)', () => {
    const once = parseGateConfig({ checks: [{ name: 'db', tcp: 5433 }] })
    assert.deepEqual(parseGateConfig(once), once)
  })

  test('an unknown name in after is reported at its path', () => {
    const problems = problemsOf({
      checks: [
        { name: 'store', tcp: 6601 },
        { name: 'api', http: 'http://127.0.0.1:9101/healthz' },
        { name: 'workers', http: 'http://127.0.0.1:9101/workers', after: ['apii'] },
      ],
    })
    assert.deepEqual(problems, ['gate.checks[2].after[0]: unknown check "apii"'])
  })

  test('a dependency cycle is reported once with its path', () => {
    const problems = problemsOf({
      checks: [
        { name: 'a', tcp: 1, after: ['c'] },
        { name: 'b', tcp: 2, after: ['a'] },
        { name: 'c', tcp: 3, after: ['b'] },
        { name: 'self', tcp: 4, after: ['self'] },
      ],
    })
    assert.deepEqual(problems, [
      'gate.checks[1].after[0]: dependency cycle: a -> c -> b -> a',
      'gate.checks[3].after[0]: dependency cycle: self -> self',
    ])
  })

  test('a check with two kinds, or none, is rejected', () => {
    const problems = problemsOf({
      checks: [
        { name: 'both', tcp: 5433, http: 'http://127.0.0.1:8001/' },
        { name: 'neither', after: [] },
        { name: 'db-twice', tcp: 5433, postgres: 5433 },
      ],
    })
    assert.deepEqual(problems, [
      'gate.checks[0]: give exactly one of tcp, http, postgres, redis, healthy, not tcp and http',
      'gate.checks[1]: give exactly one of tcp, http, postgres, redis, healthy',
      'gate.checks[2]: give exactly one of tcp, http, postgres, redis, healthy, not tcp and postgres',
    ])
  })

  test('postgres and redis checks take a target alone or with credentials, user postgres by default', () => {
    const config = parseGateConfig({
      checks: [
        { name: 'db', postgres: '${DB_PORT}' },
        {
          name: 'db-login',
          postgres: { target: '127.0.0.1:${DB_PORT}', user: 'app', password: '${DB_PASSWORD}', database: 'app' },
        },
        { name: 'queue', redis: 6380 },
        { name: 'queue-auth', redis: { target: '${REDIS_PORT}', password: '${REDIS_PASSWORD}' } },
      ],
    })
    assert.equal(config.checks[0]?.postgres, '${DB_PORT}')
    assert.deepEqual(config.checks[1]?.postgres, {
      target: '127.0.0.1:${DB_PORT}',
      user: 'app',
      password: '${DB_PASSWORD}',
      database: 'app',
    })
    assert.deepEqual(config.checks[3]?.redis, { target: '${REDIS_PORT}', password: '${REDIS_PASSWORD}' })
  })

  test('postgres and redis targets must be loopback, credentials valid references, no unknown keys or expect', () => {
    const problems = problemsOf({
      checks: [
        { name: 'remote', postgres: { target: 'db.example.com:5432', user: 'app' } },
        { name: 'ref', postgres: { target: 5432, password: '${DB PASSWORD}' } },
        { name: 'typo', redis: { target: 6379, pasword: 'x' } },
        { name: 'expect', redis: 6379, expect: { status: [200] } },
      ],
    })
    assert.deepEqual(problems.sort(), [
      'gate.checks[0].postgres.target: host "db.example.com" must be a loopback host (127.0.0.1, localhost or [::1])',
      'gate.checks[1].postgres.password: invalid variable reference "${DB PASSWORD}"',
      'gate.checks[2].redis: Unrecognized key: "pasword"',
      'gate.checks[3].expect: expect applies to http checks only',
    ])
  })

  test('URLs must be http(s) to a loopback host', () => {
    const problems = problemsOf({
      checks: [
        { name: 'remote', http: 'http://example.com/healthz' },
        { name: 'private', http: 'http://192.168.1.10:${PORT}/' },
        { name: 'ftp', http: 'ftp://127.0.0.1/' },
        { name: 'garbage', http: 'not a url' },
        { name: 'remote-tcp', tcp: '10.0.0.1:5432' },
        { name: 'ok-127', http: 'https://127.0.0.1:8443/' },
      ],
    })
    assert.deepEqual(problems, [
      'gate.checks[0].http: host "example.com" must be a loopback host (127.0.0.1, localhost or [::1])',
      'gate.checks[1].http: host "192.168.1.10" must be a loopback host (127.0.0.1, localhost or [::1])',
      'gate.checks[2].http: "ftp://127.0.0.1/" must use http or https, not ftp',
      'gate.checks[3].http: "not a url" is not a valid URL',
      'gate.checks[4].tcp: host "10.0.0.1" must be a loopback host (127.0.0.1, localhost or [::1])',
    ])
  })

  test('duplicate names, typos in keys, bad references and expect on tcp are all reported at once', () => {
    const problems = problemsOf({
      timeout: 0,
      checks: [
        { name: 'db', tcp: '${DB PORT}' },
        { name: 'db', tcp: 5433, expect: { minItems: 1 } },
        { name: 'api', http: 'http://127.0.0.1:8000/', expect: { minitems: 4 } },
        { name: 'x', tcp: 70000 },
      ],
    })
    assert.deepEqual(problems.sort(), [
      'gate.checks[0].tcp: invalid variable reference "${DB PORT}"',
      'gate.checks[1].expect: expect applies to http checks only',
      'gate.checks[1].name: duplicate check name "db" (also checks[0])',
      'gate.checks[2].expect: Unrecognized key: "minitems"',
      'gate.checks[3].tcp: Too big: expected number to be <=65535',
      'gate.timeout: Too small: expected number to be >0',
    ])
  })
})
