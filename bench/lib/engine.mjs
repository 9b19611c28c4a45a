/** The Docker engine API over its unix socket, for the scenarios that drive containers directly. */
import { request } from 'node:http'

const SOCKET = process.env.DOCKER_HOST?.startsWith('unix://')
  ? process.env.DOCKER_HOST.slice('unix://'.length)
  : '/var/run/docker.sock'

/** One request; resolves `{ status, body }` (JSON parsed when it is JSON). */
export function engine(method, path, body) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body)
    const req = request(
      {
        socketPath: SOCKET,
        path,
        method,
        headers: { host: 'docker', ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => (text += chunk))
        res.on('end', () => {
          let parsed = text
          try {
            parsed = text ? JSON.parse(text) : undefined
          } catch {}
          resolve({ status: res.statusCode ?? 0, body: parsed })
        })
      },
    )
    req.on('error', reject)
    req.end(payload)
  })
}

/** `engine` that throws on a 4xx/5xx answer. */
export async function engineOk(method, path, body) {
  const answer = await engine(method, path, body)
  if (answer.status >= 400) throw new Error(`engine ${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`)
  return answer.body
}

/**
 * Subscribes to `GET /events` with `filters`; `onEvent` gets each event. Resolves (once the engine
 * accepted it) to a function that ends the subscription.
 */
export function subscribe(filters, onEvent) {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: SOCKET,
        path: `/events?filters=${encodeURIComponent(JSON.stringify(filters))}`,
        headers: { host: 'docker' },
      },
      (res) => {
        if ((res.statusCode ?? 0) >= 400) {
          reject(new Error(`engine /events: ${res.statusCode}`))
          return
        }
        let buffered = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          buffered += chunk
          const lines = buffered.split('\n')
          buffered = lines.pop() ?? ''
          for (const line of lines) if (line.trim()) onEvent(JSON.parse(line))
        })
        resolve(() => req.destroy())
      },
    )
    req.on('error', (error) => reject(error))
    req.end()
  })
}
