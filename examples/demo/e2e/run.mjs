// berth demo end-to-end test. Runs inside the compose network (profile "test"), talks to the
// backend by service name, writes $ARTIFACTS_DIR/e2e-results.json, exits 0 on pass, 1 on fail.
//   E2E_EXPECT_WORKERS  workers that must be registered (default 4; set higher to force a failure)
//   E2E_TIMEOUT_S       how long to wait for the backend to become healthy (default 30)
//   E2E_WORKERS_WAIT_S  how long to wait for the workers once healthy (default 10)
//   E2E_JOB_WAIT_S      how long a job may take through the Redis queue (default 15)
//   PROMETHEUS_URL      the stack's Prometheus (default http://prometheus:9090; empty: not checked)
import fs from 'node:fs'
import path from 'node:path'

const BACKEND_URL = (process.env.BACKEND_URL || 'http://backend:8000').replace(/\/+$/, '')
const EXPECT_WORKERS = Number(process.env.E2E_EXPECT_WORKERS || 4)
const TIMEOUT_S = Number(process.env.E2E_TIMEOUT_S || 30)
const WORKERS_WAIT_S = Number(process.env.E2E_WORKERS_WAIT_S || 10)
const JOB_WAIT_S = Number(process.env.E2E_JOB_WAIT_S || 15)
const PROMETHEUS_URL = (process.env.PROMETHEUS_URL ?? 'http://prometheus:9090').replace(/\/+$/, '')
const ARTIFACTS_DIR = process.env.ARTIFACTS_DIR || '/artifacts'
const INSTANCE_ID = process.env.INSTANCE_ID || 'demo'

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const startedAt = new Date()
const checks = []

function record(name, ok, detail) {
  checks.push({ name, ok, detail })
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? ` - ${typeof detail === 'string' ? detail : JSON.stringify(detail)}` : ''}`,
  )
}

async function getJson(pathname, init = {}) {
  const url = pathname.startsWith('http') ? pathname : BACKEND_URL + pathname
  const res = await fetch(url, { signal: AbortSignal.timeout(3000), ...init })
  const text = await res.text()
  let body
  try {
    body = JSON.parse(text)
  } catch {
    body = text
  }
  return { status: res.status, body }
}

// Polls fn until it returns a truthy value or the deadline passes; returns the last result.
async function poll(fn, seconds) {
  const deadline = Date.now() + seconds * 1000
  let last
  for (;;) {
    try {
      last = await fn()
      if (last.done) return last
    } catch (err) {
      last = { done: false, error: err.cause?.code || err.message }
    }
    if (Date.now() >= deadline) return last
    await sleep(250)
  }
}

async function main() {
  console.log(`e2e for instance ${INSTANCE_ID} against ${BACKEND_URL}`)
  const health = await poll(async () => {
    const r = await getJson('/api/v1/health')
    return { done: r.status === 200, ...r }
  }, TIMEOUT_S)
  record('health answers 200', health.done, health.done ? undefined : (health.body ?? health.error))
  if (health.done) {
    record('health reports db ok', health.body.db === 'ok', health.body.db)
    record('health reports the queue ok', health.body.queue === 'ok', health.body.queue)
    record('the schema is migrated', health.body.schema === 'ready', health.body.schema)
    record(
      'health reports this instance',
      health.body.instance === INSTANCE_ID,
      `expected ${INSTANCE_ID}, got ${health.body.instance}`,
    )
  }

  const workers = await poll(
    async () => {
      const r = await getJson('/api/v1/workers')
      const n = Array.isArray(r.body) ? r.body.length : -1
      return { done: r.status === 200 && n >= EXPECT_WORKERS, n, ...r }
    },
    health.done ? WORKERS_WAIT_S : 0,
  )
  const ids = Array.isArray(workers.body) ? workers.body.map((w) => w.id) : []
  record(
    `at least ${EXPECT_WORKERS} workers registered`,
    Boolean(workers.done),
    workers.error ? workers.error : `${workers.n ?? 0} registered: ${ids.join(', ') || 'none'}`,
  )

  // A job through PostgreSQL and the Redis queue: the backend stores it, a worker does it.
  try {
    const created = await getJson('/api/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input: `e2e ${INSTANCE_ID}` }),
    })
    if (created.status !== 202)
      throw new Error(`POST /api/v1/jobs answered ${created.status}: ${JSON.stringify(created.body)}`)
    const job = await poll(async () => {
      const r = await getJson(`/api/v1/jobs/${created.body.id}`)
      return { done: r.status === 200 && r.body.status === 'done', ...r }
    }, JOB_WAIT_S)
    const expected = [...`e2e ${INSTANCE_ID}`].reverse().join('')
    record(
      'a job goes through the queue to a worker and back',
      Boolean(job.done) && job.body.result === expected,
      job.body,
    )
  } catch (err) {
    record('a job goes through the queue to a worker and back', false, err.cause?.code || err.message)
  }

  if (PROMETHEUS_URL) {
    // Prometheus scrapes the backend and the four workers (every 2 s).
    const targets = await poll(async () => {
      const r = await getJson(`${PROMETHEUS_URL}/api/v1/targets`)
      const active = r.body?.data?.activeTargets ?? []
      const up = active.filter((t) => t.health === 'up').map((t) => t.labels?.job)
      return {
        done:
          up.filter((job) => job === 'backend').length >= 1 &&
          up.filter((job) => job === 'workers').length >= EXPECT_WORKERS,
        up,
      }
    }, 20)
    record('prometheus scrapes the backend and the workers', Boolean(targets.done), targets.error ?? { up: targets.up })
  }

  try {
    const info = await getJson('/api/v1/info')
    record('info reports this instance', info.status === 200 && info.body.instance === INSTANCE_ID, {
      status: info.status,
      instance: info.body.instance,
      slot: info.body.slot,
    })
  } catch (err) {
    record('info reports this instance', false, err.cause?.code || err.message)
  }
}

async function writeResults(passed, error) {
  const finishedAt = new Date()
  const results = {
    suite: 'berth-demo-e2e',
    instance: INSTANCE_ID,
    slot: process.env.SLOT_NUMBER ?? null,
    backend: BACKEND_URL,
    expectWorkers: EXPECT_WORKERS,
    passed,
    ...(error ? { error } : {}),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt - startedAt,
    checks,
  }
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true })
  const file = path.join(ARTIFACTS_DIR, 'e2e-results.json')
  fs.writeFileSync(file + '.tmp', JSON.stringify(results, null, 2) + '\n')
  fs.renameSync(file + '.tmp', file)
  console.log(`results written to ${file}`)
}

main()
  .then(
    () => null,
    (err) => String(err?.stack || err),
  )
  .then(async (error) => {
    const passed = !error && checks.length > 0 && checks.every((c) => c.ok)
    try {
      await writeResults(passed, error)
    } catch (err) {
      console.error(`could not write artifacts to ${ARTIFACTS_DIR}: ${err.message}`)
      process.exit(2)
    }
    console.log(passed ? 'E2E PASSED' : 'E2E FAILED')
    process.exit(passed ? 0 : 1)
  })
