// berth demo worker (stands in for KTRDR's backtest/training workers). Four services run this
// image; each registers with the backend every REGISTER_INTERVAL_MS (default 1 s) and keeps doing
// so, so a backend restart (hot reload) repopulates the worker list within a second. Workers do
// not wait for the backend: they retry every 250 ms until it answers.
import http from 'node:http'
import os from 'node:os'

const WORKER_ID = process.env.WORKER_ID || os.hostname()
const PORT = Number(process.env.WORKER_PORT || 5000)
const BACKEND_URL = (process.env.BACKEND_URL || 'http://backend:8000').replace(/\/+$/, '')
const INTERVAL_MS = Number(process.env.REGISTER_INTERVAL_MS || 1000)
const INSTANCE_ID = process.env.INSTANCE_ID || 'demo'
const SELF_URL = process.env.WORKER_URL || `http://${WORKER_ID}:${PORT}`

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

const server = http.createServer((_req, res) => {
  const text = JSON.stringify({ status: 'ok', id: WORKER_ID, instance: INSTANCE_ID })
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
})

server.listen(PORT, '0.0.0.0', () => {
  console.log(`[${WORKER_ID} ${INSTANCE_ID}] listening on ${PORT}, registering with ${BACKEND_URL}`)
  loop()
})

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => process.exit(0))
}
