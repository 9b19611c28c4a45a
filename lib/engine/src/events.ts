import { dockerSocketPath } from './engine.js'

/** One event of the engine's `GET /events` stream (the fields berth reads). */
export interface EngineEvent {
  Type: string
  /** e.g. `health_status: healthy`, `die`, `start`. */
  Action: string
  Actor: { ID: string; Attributes: Record<string, string> }
  /** When the engine saw it, in nanoseconds since the epoch. */
  timeNano: number
}

export interface EngineEventStream {
  /** Resolves once the engine has accepted the subscription (events from then on arrive). */
  readonly ready: Promise<void>
  /** Ends the subscription; idempotent. */
  close(): void
}

/**
 * Subscribes to the engine's event stream (`GET /events`, newline-delimited JSON) with `filters`
 * (the API's filter object, e.g. `{ type: ['container'], event: ['health_status'], label: [...] }`).
 * `onEvent` runs for each event; `onEnd` once when the stream ends for any reason other than
 * `close()` (the engine went away). `ready` rejects when the engine refuses or does not answer
 * within `timeoutMs`, so a caller can fall back to asking.
 */
export function engineEvents(
  filters: Record<string, string[]>,
  onEvent: (event: EngineEvent) => void,
  options: { onEnd?: (error?: Error) => void; timeoutMs?: number; socketPath?: string } = {},
): EngineEventStream {
  const socketPath = options.socketPath ?? dockerSocketPath()
  const timeout = options.timeoutMs ?? 2000
  let closed = false
  let destroy: (() => void) | undefined
  const ready = (async () => {
    const { request } = await import('node:http')
    await new Promise<void>((resolve, reject) => {
      const path = `/events?filters=${encodeURIComponent(JSON.stringify(filters))}`
      const req = request({ socketPath, path, headers: { host: 'docker' } }, (res) => {
        clearTimeout(timer)
        if ((res.statusCode ?? 0) >= 400) {
          res.resume()
          reject(new Error(`the engine answered ${res.statusCode} for ${path}`))
          return
        }
        resolve()
        let buffered = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          buffered += chunk
          let end = buffered.indexOf('\n')
          while (end >= 0) {
            const line = buffered.slice(0, end).trim()
            buffered = buffered.slice(end + 1)
            if (line) {
              try {
                onEvent(JSON.parse(line) as EngineEvent)
              } catch {
                // not an event: ignore the line
              }
            }
            end = buffered.indexOf('\n')
          }
        })
        res.on('close', () => {
          if (!closed) options.onEnd?.()
        })
      })
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeout} ms`)), timeout)
      req.on('error', (error) => {
        clearTimeout(timer)
        reject(error)
        if (!closed) options.onEnd?.(error)
      })
      destroy = () => req.destroy()
      req.end()
      if (closed) req.destroy()
    })
  })()
  ready.catch(() => undefined)
  return {
    ready,
    close() {
      if (closed) return
      closed = true
      destroy?.()
    },
  }
}
