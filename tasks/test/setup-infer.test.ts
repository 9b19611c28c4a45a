import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { ComposeSummary } from '@berth/contract'
import { layoutProblems, portsConfigSchema } from '@berth/ports'
import { inferConfig, isKtrdrShaped } from '../src/builtin/setup-infer.js'

const problems = (layout: Record<string, unknown>, max: number) => layoutProblems(portsConfigSchema.parse(layout), max)

function summary(services: Partial<ComposeSummary['services'][number]>[]): ComposeSummary {
  return {
    files: ['compose.yaml'],
    services: services.map((service, index) => ({
      name: `s${index}`,
      fixed: [],
      parameterised: [],
      healthcheck: false,
      ...service,
    })),
  }
}

describe('what berth setup infers from a compose file', () => {
  test('one variable per published host port with base = the port, and the smallest stride that keeps slots apart', () => {
    const inferred = inferConfig(
      summary([
        { name: 'db', fixed: [{ ports: [5432], target: '5432' }], healthcheck: true },
        {
          name: 'web',
          fixed: [
            { ports: [8080], target: '8080' },
            { ports: [8081], target: '8081' },
          ],
        },
      ]),
      10,
      problems,
    )
    assert.deepEqual(Object.keys(inferred.ports), ['DB_PORT', 'WEB_8080_PORT', 'WEB_8081_PORT'])
    assert.equal(inferred.ports.DB_PORT?.base, 5432)
    assert.equal(inferred.stride, 10, '8080 + 1 would be 8081: stride 1 collides')
    assert.match(inferred.notes[0] ?? '', /stride 10: .*slots 0\.\.10 never share a port \(checked\)/)
  })

  test('one host port published for tcp and udp gets one variable, and the layout gives no port twice', () => {
    const inferred = inferConfig(
      summary([
        {
          name: 'dns',
          // ports: ["27053:53/tcp", "27053:53/udp", "8080:80"]
          fixed: [
            { ports: [27053], target: '53/tcp', index: 0 },
            { ports: [27053], target: '53/udp', index: 1 },
            { ports: [8080], target: '80', index: 2 },
          ],
        },
      ]),
      10,
      problems,
    )
    assert.deepEqual(Object.keys(inferred.ports), ['DNS_27053_PORT', 'DNS_8080_PORT'])
    assert.deepEqual(
      problems(
        Object.fromEntries(
          Object.entries(inferred.ports).map(([name, rule]) => [name, { base: rule.base, stride: rule.stride }]),
        ),
        10,
      ),
      [],
    )
  })

  test("the gate checks a service's first HTTP port in file order; a port variable's base comes from .env when the file has no default", () => {
    const inferred = inferConfig(
      summary([
        {
          name: 'web',
          // ports: ["9000-9001:9000-9001", "${WEB_PORT}:80"] with WEB_PORT=8088 in .env
          fixed: [{ ports: [9000, 9001], target: '9000-9001', index: 0 }],
          parameterised: [{ variable: 'WEB_PORT', default: 8088, defaultFrom: '.env', target: '80', index: 1 }],
        },
        {
          name: 'metrics',
          fixed: [
            { ports: [9100], target: '9100', index: 1 },
            { ports: [9200], target: '9200', index: 0 },
          ],
        },
      ]),
      10,
      problems,
    )
    assert.equal(inferred.ports.WEB_PORT?.base, 8088)
    assert.match(inferred.ports.WEB_PORT?.reason ?? '', /WEB_PORT=8088 in \.env/)
    const check = (name: string) => inferred.checks.find((c) => c.check.name === name)?.check
    assert.equal(
      check('web')?.http,
      'http://127.0.0.1:${WEB_PORT}/',
      'port 80 serves HTTP: it is checked, not the range',
    )
    assert.equal(check('metrics')?.tcp, '${METRICS_9200_PORT}', 'no HTTP port: the first in the file')
    assert.equal(inferred.urlPortVar, 'WEB_PORT')
  })

  test('a range becomes one entry with count, and the stride is at least the count', () => {
    const inferred = inferConfig(
      summary([{ name: 'ftp', fixed: [{ ports: [21000, 21001, 21002], target: '21000-21002' }] }]),
      10,
      problems,
    )
    assert.deepEqual(inferred.ports.FTP_PORT, {
      base: 21000,
      count: 3,
      stride: 10,
      reason: 'ftp publishes host port 21000-21002 (container 21000-21002)',
    })
  })

  test('the gate: healthy for a healthcheck, http where a port evidently serves HTTP, else tcp; nothing for a service with neither', () => {
    const inferred = inferConfig(
      summary([
        { name: 'db', fixed: [{ ports: [5432], target: '5432' }], healthcheck: true },
        { name: 'cache', fixed: [{ ports: [6379], target: '6379' }] },
        { name: 'web', fixed: [{ ports: [80], target: '80' }] },
        { name: 'ui', fixed: [{ ports: [9999], target: '9999' }], image: 'grafana/grafana:10' },
        { name: 'worker' },
      ]),
      10,
      problems,
    )
    assert.deepEqual(
      inferred.checks.map(({ check }) => check),
      [
        { name: 'db', healthy: 'db' },
        { name: 'cache', tcp: '${CACHE_PORT}', service: 'cache' },
        {
          name: 'web',
          http: 'http://127.0.0.1:${WEB_PORT}/',
          expect: { status: [200, 201, 204, 301, 302, 303, 304, 307, 308, 401, 403, 404] },
          service: 'web',
        },
        {
          name: 'ui',
          http: 'http://127.0.0.1:${UI_PORT}/',
          expect: { status: [200, 201, 204, 301, 302, 303, 304, 307, 308, 401, 403, 404] },
          service: 'ui',
        },
      ],
    )
    assert.ok(inferred.notes.some((note) => /worker: no published port and no healthcheck/.test(note)))
  })

  test('a port already written with a variable keeps its name; its default is the base', () => {
    const inferred = inferConfig(
      summary([{ name: 'api', parameterised: [{ variable: 'API_PORT', default: 8000, target: '8000' }] }]),
      10,
      problems,
    )
    assert.equal(inferred.ports.API_PORT?.base, 8000)
    assert.deepEqual(inferred.checks[0]?.check.http, 'http://127.0.0.1:${API_PORT}/')
  })

  test('a stack whose ports read KTRDR_* variables is KTRDR-shaped; one with fixed ports is not', () => {
    assert.equal(
      isKtrdrShaped(summary([{ parameterised: [{ variable: 'KTRDR_API_PORT', default: 8000, target: '8000' }] }])),
      true,
    )
    assert.equal(isKtrdrShaped(summary([{ fixed: [{ ports: [8000], target: '8000' }] }])), false)
  })
})
