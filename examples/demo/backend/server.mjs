// berth demo backend (stands in for KTRDR's API). The source is bind-mounted read-only from
// ./backend and run under a file watcher (images/bin/berth-watch.mjs), so editing this file in one
// checkout restarts only that checkout's backend (hot reload). Edit GREETING to see it change in
// /api/v1/health.
import http from 'node:http'
import net from 'node:net'

const GREETING = 'hello from berth demo'

const PORT = Number(process.env.PORT || 8000)
const DB_HOST = process.env.DB_HOST || 'db'
const DB_PORT = Number(process.env.DB_PORT || 5432)
const DB_TIMEOUT_MS = Number(process.env.DB_TIMEOUT_MS || 1500)
const WORKER_TTL_MS = Number(process.env.WORKER_TTL_MS || 5000)
const INSTANCE_ID = process.env.INSTANCE_ID || 'demo'
const startedAt = new Date().toISOString()

// id -> { id, url, instance, registeredAt, lastSeen }
const workers = new Map()

function log(msg) {
  console.log(`[backend ${INSTANCE_ID}] ${msg}`)
}

function slot() {
  const raw = process.env.BERTH_SLOT
  if (raw === undefined || raw === '') return null
  const n = Number(raw)
  return Number.isInteger(n) ? n : raw
}

// Resolves 'ok' when db accepts our DB_PASSWORD, otherwise a short human-readable reason.
function checkDb() {
  return new Promise((resolve) => {
    let done = false
    let buf = ''
    const finish = (result) => {
      if (done) return
      done = true
      socket.destroy()
      resolve(result)
    }
    const socket = net.connect({ host: DB_HOST, port: DB_PORT })
    socket.setEncoding('utf8')
    socket.setTimeout(DB_TIMEOUT_MS, () => finish(`db ${DB_HOST}:${DB_PORT} timed out`))
    socket.on('connect', () => socket.write(`AUTH ${process.env.DB_PASSWORD || ''}\n`))
    socket.on('data', (chunk) => {
      buf += chunk
      const nl = buf.indexOf('\n')
      if (nl === -1) return
      const line = buf.slice(0, nl).trim()
      if (line === 'OK') finish('ok')
      else if (line === 'ERR auth')
        finish('db auth failed: DB_PASSWORD rejected (volume initialised with another password?)')
      else finish(`db answered unexpectedly: ${line.slice(0, 80)}`)
    })
    socket.on('error', (err) => finish(`db ${DB_HOST}:${DB_PORT} unreachable: ${err.code || err.message}`))
    socket.on('close', () => finish(`db ${DB_HOST}:${DB_PORT} closed the connection`))
  })
}

function liveWorkers() {
  const now = Date.now()
  const list = []
  for (const [id, w] of workers) {
    if (now - w.lastSeen > WORKER_TTL_MS) workers.delete(id)
    else list.push({ ...w, lastSeen: new Date(w.lastSeen).toISOString() })
  }
  return list.sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }))
}

function send(res, status, body) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

function readJson(req, limit = 64 * 1024) {
  return new Promise((resolve, reject) => {
    let size = 0
    const chunks = []
    req.on('data', (c) => {
      size += c.length
      if (size > limit) {
        reject(new Error('body too large'))
        req.destroy()
      } else chunks.push(c)
    })
    req.on('end', () => {
      try {
        resolve(chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {})
      } catch (err) {
        reject(err)
      }
    })
    req.on('error', reject)
  })
}

const routes = {
  'GET /api/v1/health': async (_req, res) => {
    const db = await checkDb()
    const ok = db === 'ok'
    send(res, ok ? 200 : 503, {
      status: ok ? 'ok' : 'error',
      instance: INSTANCE_ID,
      db,
      greeting: GREETING,
      ...(ok ? {} : { reason: db }),
    })
  },
  'GET /api/v1/workers': async (_req, res) => send(res, 200, liveWorkers()),
  'POST /api/v1/workers/register': async (req, res) => {
    let body
    try {
      body = await readJson(req)
    } catch (err) {
      return send(res, 400, { error: `invalid JSON body: ${err.message}` })
    }
    const id = typeof body.id === 'string' ? body.id.trim() : ''
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) return send(res, 400, { error: 'id must match [A-Za-z0-9_.-]{1,64}' })
    const now = Date.now()
    const prev = workers.get(id)
    if (!prev) log(`worker registered: ${id}`)
    workers.set(id, {
      id,
      url: typeof body.url === 'string' ? body.url : null,
      instance: typeof body.instance === 'string' ? body.instance : null,
      registeredAt: prev ? prev.registeredAt : new Date(now).toISOString(),
      lastSeen: now,
    })
    send(res, 200, { registered: id })
  },
  'GET /api/v1/info': async (_req, res) =>
    send(res, 200, {
      instance: INSTANCE_ID,
      slot: slot(),
      otel: process.env.OTEL_RESOURCE_ATTRIBUTES,
      secretPresent: Boolean(process.env.DEMO_API_KEY),
      startedAt,
      node: process.version,
    }),
  'GET /': async (_req, res) =>
    send(res, 200, {
      service: 'berth-demo-backend',
      instance: INSTANCE_ID,
      endpoints: ['/api/v1/health', '/api/v1/workers', '/api/v1/workers/register', '/api/v1/info'],
    }),
}

const server = http.createServer((req, res) => {
  const pathname = new URL(req.url, 'http://localhost').pathname.replace(/\/+$/, '') || '/'
  const route = routes[`${req.method} ${pathname}`]
  if (!route) return send(res, 404, { error: `no route ${req.method} ${pathname}` })
  route(req, res).catch((err) => {
    log(`error on ${req.method} ${pathname}: ${err.stack || err}`)
    if (!res.headersSent) send(res, 500, { error: 'internal error' })
  })
})
server.keepAliveTimeout = 5000

server.listen(PORT, '0.0.0.0', () => log(`listening on ${PORT} (${GREETING})`))

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    server.close()
    process.exit(0)
  })
}
