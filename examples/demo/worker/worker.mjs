// berth demo worker (stands in for KTRDR's backtest/training workers). Four services run this
// image; each registers with the backend every REGISTER_INTERVAL_MS (default 1 s) and keeps doing
// so, so a backend restart (hot reload) repopulates the worker list within a second. Workers do
// not wait for the backend: they retry every 250 ms until it answers.
//
// Each worker takes jobs from the Redis queue (BRPOP on demo:jobs, through `ioredis`), does them
// (the input reversed) and reports the result to the backend. It serves Prometheus metrics on
// /metrics and its health on every other path.
import http from 'node:http'
import os from 'node:os'

// First of all: node is PID 1 here, and a signal arriving before a handler exists is ignored (the
// container then waits out its stop grace). ioredis is imported below, once this is in place.
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => process.exit(0))
}

const WORKER_ID = process.env.WORKER_ID || os.hostname()
const PORT = Number(process.env.WORKER_PORT || 5000)
const BACKEND_URL = (process.env.BACKEND_URL || 'http://backend:8000').replace(/\/+$/, '')
const INTERVAL_MS = Number(process.env.REGISTER_INTERVAL_MS || 1000)
const INSTANCE_ID = process.env.INSTANCE_ID || 'demo'
const SELF_URL = process.env.WORKER_URL || `http://${WORKER_ID}:${PORT}`
const REDIS_HOST = process.env.REDIS_HOST ?? ''
const QUEUE = 'demo:jobs'
const metrics = { jobsDone: 0, jobsFailed: 0, registrations: 0 }

let lastState = ''
function logState(state) {
  if (state === lastState) return // log transitions only, not every heartbeat
  lastState = state
  console.log(`[${WORKER_ID} ${INSTANCE_ID}] ${state}`)
}

const RETRY_MS = Math.min(250, INTERVAL_MS)

// Registers once; calls done(ok). Heartbeats every INTERVAL_MS, retries faster while the backend
// is not reachable yet, so the worker shows up within a fraction of a second of the backend.
function register(done) {
  const body = JSON.stringify({ id: WORKER_ID, url: SELF_URL, instance: INSTANCE_ID })
  let finished = false
  const finish = (ok) => {
    if (!finished) {
      finished = true
      done(ok)
    }
  }
  const req = http.request(
    `${BACKEND_URL}/api/v1/workers/register`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      timeout: 2000,
    },
    (res) => {
      res.resume()
      const ok = res.statusCode === 200
      if (ok) metrics.registrations += 1
      logState(ok ? 'registered with backend' : `backend answered ${res.statusCode}, retrying`)
      finish(ok)
    },
  )
  req.on('timeout', () => req.destroy(new Error('timeout')))
  req.on('error', (err) => {
    logState(`backend not reachable yet (${err.code || err.message}), retrying`)
    finish(false)
  })
  req.end(body)
}

function loop() {
  register((ok) => setTimeout(loop, ok ? INTERVAL_MS : RETRY_MS))
}

// The backend as JSON over HTTP: resolves { status, body }.
async function backend(method, pathname, payload) {
  const response = await fetch(`${BACKEND_URL}${pathname}`, {
    method,
    headers: payload ? { 'content-type': 'application/json' } : {},
    body: payload ? JSON.stringify(payload) : undefined,
    signal: AbortSignal.timeout(3000),
  })
  return { status: response.status, body: await response.json().catch(() => null) }
}

// Takes jobs off the queue for ever: a blocking pop (one connection of its own), the work, the
// result to the backend. A job whose report fails is counted and logged, never retried.
async function work() {
  const { default: Redis } = await import('ioredis')
  const queue = new Redis({
    host: REDIS_HOST,
    port: Number(process.env.REDIS_PORT || 6379),
    password: process.env.REDIS_PASSWORD || undefined,
    maxRetriesPerRequest: null,
    retryStrategy: () => 500,
  })
  let lastError = ''
  queue.on('error', (err) => {
    if (err.message !== lastError) console.log(`[${WORKER_ID} ${INSTANCE_ID}] redis: ${err.message}`)
    lastError = err.message
  })
  queue.on('ready', () => {
    lastError = ''
    console.log(`[${WORKER_ID} ${INSTANCE_ID}] waiting for jobs on ${QUEUE}`)
  })
  for (;;) {
    const popped = await queue.brpop(QUEUE, 5).catch(() => null)
    if (!popped) continue
    const id = popped[1]
    try {
      const job = await backend('GET', `/api/v1/jobs/${id}`)
      if (job.status !== 200) throw new Error(`job ${id}: backend answered ${job.status}`)
      const result = [...String(job.body.input)].reverse().join('')
      const done = await backend('POST', `/api/v1/jobs/${id}/result`, { worker: WORKER_ID, result })
      if (done.status !== 200) throw new Error(`job ${id}: result refused (${done.status})`)
      metrics.jobsDone += 1
      console.log(`[${WORKER_ID} ${INSTANCE_ID}] job ${id} done`)
    } catch (err) {
      metrics.jobsFailed += 1
      console.log(`[${WORKER_ID} ${INSTANCE_ID}] ${err.message}`)
    }
  }
}

function metricsText() {
  const label = `{worker="${WORKER_ID}",instance_id="${INSTANCE_ID}"}`
  return [
    '# HELP demo_worker_jobs_done_total Jobs this worker finished.',
    '# TYPE demo_worker_jobs_done_total counter',
    `demo_worker_jobs_done_total${label} ${metrics.jobsDone}`,
    '# HELP demo_worker_jobs_failed_total Jobs this worker could not finish.',
    '# TYPE demo_worker_jobs_failed_total counter',
    `demo_worker_jobs_failed_total${label} ${metrics.jobsFailed}`,
    '# HELP demo_worker_registrations_total Heartbeats the backend accepted.',
    '# TYPE demo_worker_registrations_total counter',
    `demo_worker_registrations_total${label} ${metrics.registrations}`,
    '',
  ].join('\n')
}

const server = http.createServer((req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    return res.end(metricsText())
  }
  const text = JSON.stringify({ status: 'ok', id: WORKER_ID, instance: INSTANCE_ID, queue: REDIS_HOST ? QUEUE : null })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
})

server.listen(PORT, '0.0.0.0', () => {
  console.log(`[${WORKER_ID} ${INSTANCE_ID}] listening on ${PORT}, registering with ${BACKEND_URL}`)
  loop()
  if (REDIS_HOST) work()
})
