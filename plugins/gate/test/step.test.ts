import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { OperationError, type TaskContext, UsageError } from '@berth/contract'
import { runStep } from '@berth/contract/testing'
import { type GateReport, gatePlugin, gateReportSchema } from '../src/index.js'
import { makeContext } from './helpers/context.js'
import { freePort, type RunningServer, startHttpServer } from './helpers/servers.js'

const wait = gatePlugin().steps.wait!
const runWait = (ctx: TaskContext): Promise<void> => runStep(wait, ctx)
const servers: RunningServer[] = []
after(async () => {
  for (const server of servers) await server.close()
})

async function healthyApi(): Promise<RunningServer> {
  const server = await startHttpServer((request, response) => {
    if (request.url === '/workers') response.writeHead(200).end(JSON.stringify({ workers: [1, 2, 3, 4] }))
    else response.writeHead(200).end('ok')
  })
  servers.push(server)
  return server
}

describe('gate.wait step', () => {
  test('a check that can never pass fails --timeout 5 within 7 s, naming the check, its last error and the service log tail', async () => {
    const deadPort = await freePort()
    const logCalls: [string[], number][] = []
    const { ctx, logs } = makeContext({
      gate: {
        checks: [
          { name: 'api', http: 'http://127.0.0.1:${API_PORT}/healthz', service: 'backend' },
          { name: 'workers', http: 'http://127.0.0.1:${API_PORT}/workers', expect: { minItems: 4 }, after: ['api'] },
        ],
      },
      flags: { timeout: 5 },
      env: { API_PORT: String(deadPort) },
      secrets: ['hunter2-db-password'],
      services: {
        serviceLogs: async (services, tail) => {
          logCalls.push([services, tail])
          return 'backend-1  | Traceback: cannot connect to db (password hunter2-db-password)\nbackend-1  | exited with code 1\n'
        },
      },
    })
    const started = performance.now()
    const error = await runWait(ctx).then(
      () => assert.fail('the gate should fail'),
      (thrown: unknown) => thrown,
    )
    const elapsed = performance.now() - started
    assert.ok(error instanceof OperationError)
    assert.equal(error.exitCode, 1)
    assert.ok(elapsed < 7000, `took ${Math.round(elapsed)} ms`)
    assert.ok(elapsed >= 5000, `should use the whole deadline, took ${Math.round(elapsed)} ms`)
    const [headline, skippedLine, logHeading, ...tail] = error.message.split('\n')
    assert.match(
      headline ?? '',
      new RegExp(
        `^gate failed: api \\(http://127\\.0\\.0\\.1:${deadPort}/healthz\\) — connect ECONNREFUSED .* after \\d+ attempts$`,
      ),
    )
    assert.equal(skippedLine, 'skipped: workers (prerequisite api failed)')
    assert.equal(logHeading, 'last 30 log lines of backend:')
    assert.deepEqual(tail, [
      'backend-1  | Traceback: cannot connect to db (password ***)',
      'backend-1  | exited with code 1',
    ])
    assert.deepEqual(logCalls, [[['backend'], 30]])
    assert.match(error.hint ?? '', /berth sandbox logs backend/)

    const report = gateReportSchema.parse(ctx.output.gate)
    assert.deepEqual(error.details?.gate, report)
    assert.equal(report.passed, false)
    assert.equal(report.timeoutMs, 5000)
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.kind, c.status, c.service]),
      [
        ['api', 'http', 'failed', 'backend'],
        ['workers', 'json', 'skipped', undefined],
      ],
    )
    assert.ok(logs.some((line) => line.level === 'warn' && line.message.startsWith('✗ api http ')))
  })

  test('a healthy stack passes, logs one line per check and fills ctx.output.gate', async () => {
    const api = await healthyApi()
    const { ctx, logs } = makeContext({
      gate: {
        timeout: 10,
        checks: [
          { name: 'api-port', tcp: '${API_PORT}' },
          { name: 'api', http: 'http://localhost:${API_PORT}/healthz', after: ['api-port'] },
          {
            name: 'workers',
            http: 'http://127.0.0.1:${API_PORT}/workers',
            expect: { path: 'workers', minItems: 4 },
            after: ['api'],
          },
        ],
      },
      env: { API_PORT: String(api.port) },
    })
    await runWait(ctx)
    const report = ctx.output.gate as GateReport
    assert.equal(report.passed, true)
    assert.equal(report.timeoutMs, 10_000)
    assert.deepEqual(
      report.checks.map((c) => c.status),
      ['passed', 'passed', 'passed'],
    )
    const progress = logs.filter((line) => line.message.startsWith('✓')).map((line) => line.message)
    assert.equal(progress.length, 3)
    assert.match(progress[0] ?? '', new RegExp(`^✓ api-port tcp 127\\.0\\.0\\.1:${api.port} after \\d+ ms$`))
    assert.ok(logs.some((line) => line.message.startsWith('gate: passed in ')))
  })

  test('--no-wait and an empty check list skip the gate with one log line and probe nothing', async () => {
    const noWait = makeContext({ gate: { checks: [{ name: 'db', tcp: 1 }] }, flags: { 'no-wait': true } })
    await runWait(noWait.ctx)
    assert.deepEqual(noWait.logs, [{ level: 'info', message: 'gate: skipped (--no-wait)' }])
    assert.equal(noWait.ctx.output.gate, undefined)

    const empty = makeContext({})
    await runWait(empty.ctx)
    assert.deepEqual(empty.logs, [{ level: 'info', message: 'gate: no checks configured, nothing to wait for' }])
    assert.deepEqual(empty.ctx.output.gate, { passed: true, elapsedMs: 0, timeoutMs: 120_000, checks: [] })
  })

  test('an unknown variable is a usage error before anything is probed', async () => {
    let requests = 0
    const server = await startHttpServer((_request, response) => {
      requests += 1
      response.end()
    })
    servers.push(server)
    await assert.rejects(
      runWait(makeContext({ gate: { checks: [{ name: 'db', tcp: '${DB_PORT}' }] } }).ctx),
      (error: unknown) => error instanceof UsageError && /"db"/.test(error.message) && /DB_PORT/.test(error.message),
    )
    assert.equal(requests, 0)
  })

  test('without a serviceLogs capability, or when it fails, the gate error still names the check', async () => {
    const port = await freePort()
    const gate = { checks: [{ name: 'db', tcp: port, service: 'db', timeout: 0.2 }] }
    const bare = makeContext({ gate })
    await assert.rejects(
      runWait(bare.ctx),
      (error: Error) =>
        /^gate failed: db \(127\.0\.0\.1:\d+\) — connect ECONNREFUSED/.test(error.message) &&
        error.message.includes('(no log tail for db: no plugin provides serviceLogs)'),
    )
    const broken = makeContext({
      gate,
      services: {
        serviceLogs: async () => {
          throw new Error('engine not reachable')
        },
      },
    })
    await assert.rejects(runWait(broken.ctx), (error: Error) =>
      error.message.includes('(could not read logs of db: engine not reachable)'),
    )
  })

  test('aborting ctx.signal stops the gate promptly', async () => {
    const port = await freePort()
    const controller = new AbortController()
    const { ctx } = makeContext({ gate: { checks: [{ name: 'db', tcp: port }] }, signal: controller.signal })
    setTimeout(() => controller.abort(new Error('SIGINT')), 150)
    const started = performance.now()
    await assert.rejects(runWait(ctx), /SIGINT/)
    assert.ok(performance.now() - started < 1000)
  })
})
