import assert from 'node:assert/strict'
import { after, describe, test } from 'node:test'
import { type CheckResult, type GateCheckSpec, gateReportSchema, runGate } from '../src/index.js'
import { freePort, listenTcpLater, type RunningServer, startHttpServer } from './helpers/servers.js'

const cleanups: (() => Promise<void>)[] = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

async function httpServer(handler: Parameters<typeof startHttpServer>[0]): Promise<RunningServer> {
  const server = await startHttpServer(handler)
  cleanups.push(() => server.close())
  return server
}

function byName(checks: readonly CheckResult[], name: string): CheckResult {
  const found = checks.find((check) => check.name === name)
  assert.ok(found, `no result for ${name}`)
  return found
}

describe('runGate against real sockets', () => {
  test('a tcp check passes soon after its server starts listening 300 ms late', async (t) => {
    const port = await freePort()
    const server = listenTcpLater(port, 300)
    cleanups.push(() => server.close())
    const progress: CheckResult[] = []
    const started = performance.now()
    const report = await runGate([{ name: 'db', tcp: port, service: 'db' }], {
      timeoutMs: 10_000,
      onProgress: (result) => progress.push(result),
    })
    const listeningAfter = (await server.listening) - started
    const db = byName(report.checks, 'db')
    gateReportSchema.parse(report)
    assert.equal(report.passed, true)
    assert.equal(db.status, 'passed')
    assert.equal(db.target, `127.0.0.1:${port}`)
    assert.equal(db.service, 'db')
    assert.ok(db.attempts > 1, `expected retries before the listener existed, got ${db.attempts}`)
    assert.ok(db.timeToPassMs !== undefined && db.timeToPassMs < 10_000, 'passed before the deadline')
    assert.deepEqual(progress, report.checks)
    const lag = (db.timeToPassMs ?? 0) - listeningAfter
    t.diagnostic(
      `listening after ${Math.round(listeningAfter)} ms, passed after ${db.timeToPassMs} ms: lag ${Math.round(lag)} ms, ${db.attempts} attempts`,
    )
  })

  test('an http check passes only on a status in its set and reports the last refused status', async () => {
    let calls = 0
    const server = await httpServer((request, response) => {
      if (request.url === '/healthz') {
        calls += 1
        response.writeHead(calls < 3 ? 503 : 200).end(calls < 3 ? 'starting' : 'ok')
      } else if (request.url === '/created') response.writeHead(201).end()
      else response.writeHead(404).end('no such page')
    })
    const report = await runGate(
      [
        { name: 'health', http: server.url('/healthz') },
        { name: 'created-in-set', http: server.url('/created'), expect: { status: [201, 204] } },
        { name: 'created-not-in-set', http: server.url('/created'), expect: { status: [200] }, timeout: 0.3 },
        { name: 'missing', http: server.url('/nope'), timeout: 0.3 },
      ],
      { timeoutMs: 5000 },
    )
    assert.equal(report.passed, false)
    assert.equal(byName(report.checks, 'health').status, 'passed')
    assert.ok(byName(report.checks, 'health').attempts >= 3)
    assert.equal(byName(report.checks, 'created-in-set').status, 'passed')
    assert.equal(byName(report.checks, 'created-not-in-set').lastError, 'HTTP 201 (want 200)')
    const missing = byName(report.checks, 'missing')
    assert.equal(missing.status, 'failed')
    assert.equal(missing.kind, 'http')
    assert.equal(missing.lastError, 'HTTP 404 (want 200-399): no such page')
  })

  test('a json check waits until the list at its path holds enough items', async () => {
    const started = Date.now()
    const server = await httpServer((_request, response) => {
      const count = Math.min(6, Math.floor((Date.now() - started) / 100))
      const workers = Array.from({ length: count }, (_, i) => ({ id: i + 1 }))
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: { workers } }))
    })
    const report = await runGate(
      [{ name: 'workers', http: server.url('/workers'), expect: { path: 'data.workers', minItems: 4 } }],
      { timeoutMs: 5000 },
    )
    const workers = byName(report.checks, 'workers')
    assert.equal(workers.kind, 'json')
    assert.equal(workers.status, 'passed')
    assert.ok(workers.attempts > 1, `expected polling while workers registered, got ${workers.attempts} attempts`)
    assert.ok((workers.timeToPassMs ?? 0) >= 350, `4 workers exist after ~400 ms, passed at ${workers.timeToPassMs} ms`)
  })

  test('a json check that never matches reports what the document held', async () => {
    const server = await httpServer((_request, response) => {
      response.writeHead(200).end(JSON.stringify({ data: { workers: [{ id: 1 }] }, status: 'degraded' }))
    })
    const notJson = await httpServer((_request, response) => response.writeHead(200).end('<html>'))
    const report = await runGate(
      [
        { name: 'count', http: server.url(), expect: { path: 'data.workers', minItems: 4 } },
        { name: 'field', http: server.url(), expect: { path: 'status', equals: 'ok' } },
        { name: 'html', http: notJson.url(), expect: { path: 'status' } },
      ],
      { timeoutMs: 400 },
    )
    assert.equal(byName(report.checks, 'count').lastError, 'data.workers has 1 item, want at least 4')
    assert.equal(byName(report.checks, 'field').lastError, 'status is "degraded", want "ok"')
    assert.match(byName(report.checks, 'html').lastError ?? '', /^response is not JSON/)
  })

  test('a check starts only after its prerequisites pass and is skipped when one fails', async () => {
    const deadPort = await freePort()
    const livePort = await freePort()
    const live = listenTcpLater(livePort, 0)
    cleanups.push(() => live.close())
    await live.listening
    const firstRequestAt: number[] = []
    const api = await httpServer((_request, response) => {
      firstRequestAt.push(performance.now())
      response.writeHead(200).end()
    })
    const progress: string[] = []
    const specs: GateCheckSpec[] = [
      { name: 'db', tcp: deadPort, service: 'db' },
      { name: 'cache', tcp: livePort },
      { name: 'api', http: api.url(), after: ['cache'] },
      { name: 'migrations', http: api.url('/migrations'), after: ['db'] },
      { name: 'workers', http: api.url('/workers'), expect: { minItems: 1 }, after: ['migrations', 'api'] },
    ]
    const report = await runGate(specs, { timeoutMs: 600, onProgress: (r) => progress.push(`${r.name}:${r.status}`) })
    assert.deepEqual(
      report.checks.map((c) => [c.name, c.status]),
      [
        ['db', 'failed'],
        ['cache', 'passed'],
        ['api', 'passed'],
        ['migrations', 'skipped'],
        ['workers', 'skipped'],
      ],
    )
    assert.equal(byName(report.checks, 'migrations').reason, 'prerequisite db failed')
    assert.equal(byName(report.checks, 'workers').reason, 'prerequisite migrations skipped')
    assert.equal(byName(report.checks, 'workers').attempts, 0)
    assert.equal(firstRequestAt.length, 1, 'only api reached the server: skipped checks never probe')
    assert.ok(progress.indexOf('cache:passed') < progress.indexOf('api:passed'))
    assert.ok(progress.indexOf('db:failed') < progress.indexOf('migrations:skipped'))
  })

  test('a check that can never pass fails at a 1 s deadline with its last error and many attempts', async () => {
    const port = await freePort()
    const started = performance.now()
    const report = await runGate([{ name: 'api', http: `http://127.0.0.1:${port}/healthz` }], { timeoutMs: 1000 })
    const elapsed = performance.now() - started
    const api = byName(report.checks, 'api')
    assert.equal(report.passed, false)
    assert.equal(api.status, 'failed')
    assert.match(api.lastError ?? '', /ECONNREFUSED/)
    assert.ok(api.attempts > 5, `adaptive polling should try often, got ${api.attempts}`)
    assert.ok(elapsed < 4000, `gate should end near its deadline (1 s), not run on, took ${Math.round(elapsed)} ms`)
    assert.ok(report.elapsedMs >= 1000)
  })

  test('a hung server costs one attempt its own time limit, not the whole gate, and other checks still pass', async () => {
    const hung = await httpServer(() => {
      // never answers
    })
    const ok = await httpServer((_request, response) => response.writeHead(200).end())
    const started = performance.now()
    const report = await runGate(
      [
        { name: 'hung', http: hung.url() },
        { name: 'ok', http: ok.url() },
      ],
      { timeoutMs: 800 },
    )
    const elapsed = performance.now() - started
    assert.equal(byName(report.checks, 'ok').status, 'passed')
    assert.ok((byName(report.checks, 'ok').timeToPassMs ?? 1e9) < 800)
    assert.match(byName(report.checks, 'hung').lastError ?? '', /^no response within \d+ ms$/)
    assert.ok(elapsed < 4000, `a hung attempt must not hold the gate past its deadline; took ${Math.round(elapsed)} ms`)
  })

  test('aborting the signal stops polling promptly with the abort reason', async () => {
    const port = await freePort()
    const hung = await httpServer(() => {
      // never answers
    })
    const controller = new AbortController()
    setTimeout(() => controller.abort(new Error('interrupted by test')), 200)
    const started = performance.now()
    await assert.rejects(
      runGate(
        [
          { name: 'refused', tcp: port },
          { name: 'hung', http: hung.url() },
          { name: 'later', tcp: port, after: ['refused'] },
        ],
        { timeoutMs: 30_000, signal: controller.signal },
      ),
      /interrupted by test/,
    )
    const elapsed = performance.now() - started
    assert.ok(elapsed < 4000, `abort must not wait for the 30 s deadline; took ${Math.round(elapsed)} ms`)
  })

  test('twenty concurrent checks on one caller signal raise no listener warning', async () => {
    const warnings: Error[] = []
    const onWarning = (warning: Error): void => {
      warnings.push(warning)
    }
    process.on('warning', onWarning)
    const port = await freePort()
    const checks = Array.from({ length: 20 }, (_, i) => ({ name: `c${i}`, tcp: port }))
    const report = await runGate(checks, { timeoutMs: 200, signal: new AbortController().signal })
    await new Promise((resolve) => setImmediate(resolve))
    process.off('warning', onWarning)
    assert.equal(report.checks.length, 20)
    assert.deepEqual(
      warnings.map((w) => w.name),
      [],
    )
  })

  test('checks given in config form are validated before anything is probed', async () => {
    await assert.rejects(
      runGate(
        [
          { name: 'api', http: 'http://example.com/' },
          { name: 'x', tcp: 1, after: ['y'] },
        ],
        { timeoutMs: 1000 },
      ),
      (error: Error & { problems?: string[] }) =>
        error.name === 'ConfigError' &&
        error.problems?.[0] ===
          'checks[0].http: host "example.com" must be a loopback host (127.0.0.1, localhost or [::1])',
    )
    await assert.rejects(
      runGate([{ name: 'x', tcp: 1, after: ['y'] }], { timeoutMs: 1000 }),
      /checks\[0\]\.after\[0\]: unknown check "y"/,
    )
    await assert.rejects(runGate([{ name: 'api', http: 'http://127.0.0.1:${P}/' }], { timeoutMs: 1000 }), /variable P/)
  })
})
