// berth demo backend (stands in for KTRDR's API). The source is bind-mounted read-only from
// ./backend and run under a file watcher (images/bin/berth-watch.mjs), so editing this file in one
// checkout restarts only that checkout's backend (hot reload). Edit GREETING to see it change in
// /api/v1/health.
//
// It speaks the real protocols: PostgreSQL through `pg` (the jobs and the seeded greetings),
// Redis through `ioredis` (the workers' queue), and serves Prometheus metrics on /metrics. The
// npm clients live in the image (/node_modules, see images/deps), not in this folder.
import http from 'node:http'
import { DB } from './db.mjs'

// First of all: node may be PID 1 here, and a signal arriving before a handler exists is ignored
// (the container then waits out its stop grace). The clients load below, once this is in place.
let shutdown = () => process.exit(0)
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => shutdown())
const { default: pg } = await import('pg')
const { default: Redis } = await import('ioredis')

const GREETING = 'hello from berth demo'

const PORT = Number(process.env.PORT || 8000)
const WORKER_TTL_MS = Number(process.env.WORKER_TTL_MS || 5000)
const INSTANCE_ID = process.env.INSTANCE_ID || 'demo'
const QUEUE = 'demo:jobs'
const startedAt = new Date().toISOString()

// REDIS_HOST empty: no queue (a stack without redis); health then ignores it.
const REDIS_HOST = process.env.REDIS_HOST ?? ''

const pool = new pg.Pool({
  ...DB,
  max: 4,
  connectionTimeoutMillis: 1500,
  idleTimeoutMillis: 10_000,
  application_name: 'berth-demo-backend',
})
pool.on('error', (err) => log(`idle database connection failed: ${err.message}`))

const redis = REDIS_HOST
  ? new Redis({
      host: REDIS_HOST,
      port: Number(process.env.REDIS_PORT || 6379),
      password: process.env.REDIS_PASSWORD || undefined,
      connectTimeout: 1500,
      maxRetriesPerRequest: 1,
      // Keep trying while redis starts; commands fail fast meanwhile (health says why).
      retryStrategy: () => 500,
      enableOfflineQueue: false,
    })
  : null
let redisError = 'connecting'
redis?.on('ready', () => {
  redisError = ''
  log('redis ready')
})
redis?.on('error', (err) => {
  if (redisError !== err.message) log(`redis: ${err.message}`)
  redisError = err.message
})

// id -> { id, url, instance, registeredAt, lastSeen }
const workers = new Map()
const metrics = { requests: 0, jobsEnqueued: 0, jobsDone: 0 }

function log(msg) {
  console.log(`[backend ${INSTANCE_ID}] ${msg}`)
}

function slot() {
  const raw = process.env.SLOT_NUMBER
  if (raw === undefined || raw === '') return null
  const n = Number(raw)
  return Number.isInteger(n) ? n : raw
}

// 'ok' when PostgreSQL accepts our login, otherwise a short human-readable reason.
async function checkDb() {
  try {
    await pool.query('SELECT 1')
    return 'ok'
  } catch (err) {
    if (err.code === '28P01') {
      return `db auth failed: ${err.message} (the volume was initialised with another password?)`
    }
    return `db ${DB.host}:${DB.port} unavailable: ${err.code || err.message}`
  }
}

// 'ready' once the migrations made the tables (berth runs them as a hook after `up`).
async function checkSchema() {
  try {
    const { rows } = await pool.query(
      "SELECT to_regclass('public.jobs') IS NOT NULL AND to_regclass('public.greetings') IS NOT NULL AS ready",
    )
    return rows[0]?.ready ? 'ready' : 'missing'
  } catch {
    return 'unknown'
  }
}

async function checkQueue() {
  if (!redis) return 'disabled'
  try {
    return (await redis.ping()) === 'PONG' ? 'ok' : 'redis did not answer PONG'
  } catch (err) {
    return `redis unavailable: ${redisError || err.message}`
  }
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

async function body(req, res) {
  try {
    return await readJson(req)
  } catch (err) {
    send(res, 400, { error: `invalid JSON body: ${err.message}` })
    return undefined
  }
}

const routes = {
  'GET /api/v1/health': async (_req, res) => {
    const [db, queue] = await Promise.all([checkDb(), checkQueue()])
    const schema = db === 'ok' ? await checkSchema() : 'unknown'
    const ok = db === 'ok' && (queue === 'ok' || queue === 'disabled')
    send(res, ok ? 200 : 503, {
      status: ok ? 'ok' : 'error',
      instance: INSTANCE_ID,
      db,
      queue,
      schema,
      greeting: GREETING,
      ...(ok ? {} : { reason: db === 'ok' ? queue : db }),
    })
  },
  'GET /api/v1/workers': async (_req, res) => send(res, 200, liveWorkers()),
  'POST /api/v1/workers/register': async (req, res) => {
    const input = await body(req, res)
    if (!input) return
    const id = typeof input.id === 'string' ? input.id.trim() : ''
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(id)) return send(res, 400, { error: 'id must match [A-Za-z0-9_.-]{1,64}' })
    const now = Date.now()
    const prev = workers.get(id)
    if (!prev) log(`worker registered: ${id}`)
    workers.set(id, {
      id,
      url: typeof input.url === 'string' ? input.url : null,
      instance: typeof input.instance === 'string' ? input.instance : null,
      registeredAt: prev ? prev.registeredAt : new Date(now).toISOString(),
      lastSeen: now,
    })
    send(res, 200, { registered: id })
  },
  // A job: a row in PostgreSQL, its id on the Redis queue; a worker takes it and reports back.
  'POST /api/v1/jobs': async (req, res) => {
    const input = await body(req, res)
    if (!input) return
    if (typeof input.input !== 'string' || input.input.length > 1000) {
      return send(res, 400, { error: 'input must be a string of at most 1000 characters' })
    }
    if (!redis) return send(res, 503, { error: 'no queue: REDIS_HOST is not set' })
    const { rows } = await pool.query("INSERT INTO jobs (input, status) VALUES ($1, 'queued') RETURNING id", [
      input.input,
    ])
    await redis.lpush(QUEUE, String(rows[0].id))
    metrics.jobsEnqueued += 1
    send(res, 202, { id: rows[0].id, status: 'queued' })
  },
  'GET /api/v1/jobs/:id': async (_req, res, id) => {
    const { rows } = await pool.query('SELECT id, input, status, result, worker FROM jobs WHERE id = $1', [id])
    if (rows.length === 0) return send(res, 404, { error: `no job ${id}` })
    send(res, 200, rows[0])
  },
  'POST /api/v1/jobs/:id/result': async (req, res, id) => {
    const input = await body(req, res)
    if (!input) return
    const { rowCount } = await pool.query(
      "UPDATE jobs SET status = 'done', result = $2, worker = $3, done_at = now() WHERE id = $1",
      [id, String(input.result ?? ''), String(input.worker ?? '')],
    )
    if (rowCount === 0) return send(res, 404, { error: `no job ${id}` })
    metrics.jobsDone += 1
    send(res, 200, { id: Number(id), status: 'done' })
  },
  // The seed data (berth's seed hook inserts it once per fresh database volume).
  'GET /api/v1/greetings': async (_req, res) => {
    const { rows } = await pool.query('SELECT id, text FROM greetings ORDER BY id')
    send(res, 200, rows)
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
  // Prometheus text format, scraped by the stack's own Prometheus.
  'GET /metrics': async (_req, res) => {
    const lines = [
      '# HELP demo_http_requests_total HTTP requests served.',
      '# TYPE demo_http_requests_total counter',
      `demo_http_requests_total{instance_id="${INSTANCE_ID}"} ${metrics.requests}`,
      '# HELP demo_jobs_enqueued_total Jobs put on the queue.',
      '# TYPE demo_jobs_enqueued_total counter',
      `demo_jobs_enqueued_total{instance_id="${INSTANCE_ID}"} ${metrics.jobsEnqueued}`,
      '# HELP demo_jobs_done_total Jobs reported done by workers.',
      '# TYPE demo_jobs_done_total counter',
      `demo_jobs_done_total{instance_id="${INSTANCE_ID}"} ${metrics.jobsDone}`,
      '# HELP demo_workers Workers registered now.',
      '# TYPE demo_workers gauge',
      `demo_workers{instance_id="${INSTANCE_ID}"} ${liveWorkers().length}`,
      '',
    ]
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
    res.end(lines.join('\n'))
  },
  'GET /': async (_req, res) =>
    send(res, 200, {
      service: 'berth-demo-backend',
      instance: INSTANCE_ID,
      endpoints: [
        '/api/v1/health',
        '/api/v1/workers',
        '/api/v1/workers/register',
        '/api/v1/jobs',
        '/api/v1/jobs/:id',
        '/api/v1/greetings',
        '/api/v1/info',
        '/metrics',
      ],
    }),
}

function findRoute(method, pathname) {
  const exact = routes[`${method} ${pathname}`]
  if (exact) return [exact]
  const match = /^\/api\/v1\/jobs\/(\d{1,12})(\/result)?$/.exec(pathname)
  if (!match) return undefined
  const route = routes[`${method} /api/v1/jobs/:id${match[2] ?? ''}`]
  return route ? [route, match[1]] : undefined
}

const server = http.createServer((req, res) => {
  metrics.requests += 1
  const pathname = new URL(req.url, 'http://localhost').pathname.replace(/\/+$/, '') || '/'
  const found = findRoute(req.method, pathname)
  if (!found) return send(res, 404, { error: `no route ${req.method} ${pathname}` })
  const [route, param] = found
  route(req, res, param).catch((err) => {
    log(`error on ${req.method} ${pathname}: ${err.stack || err}`)
    if (!res.headersSent)
      send(res, err.code === '42P01' ? 503 : 500, {
        error: err.code === '42P01' ? 'schema missing: run the migrations' : 'internal error',
      })
  })
})
server.keepAliveTimeout = 5000

server.listen(PORT, '0.0.0.0', () => log(`listening on ${PORT} (${GREETING})`))

shutdown = () => {
  server.close()
  redis?.disconnect()
  pool.end().catch(() => {})
  process.exit(0)
}
