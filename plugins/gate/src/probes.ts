import { connect } from 'node:net'
import { importExternal } from '@berth/contract'
import type { Dispatcher } from 'undici'
import { withAttemptLimit } from './attempt.js'
import type { HttpCheck, JsonCheck, TcpCheck } from './checks.js'
import { jsonExpectationProblem, truncate } from './json-expect.js'

export interface AttemptOptions {
  /** This attempt's own time limit. */
  limitMs: number
  /** The gate's abort signal. */
  signal: AbortSignal
}

/** Resolves when a TCP connection to the target opens; the connection is closed at once. */
export function probeTcp(check: Pick<TcpCheck, 'host' | 'port'>, options: AttemptOptions): Promise<void> {
  const host = check.host.replace(/^\[(.*)\]$/, '$1')
  return withAttemptLimit(options.signal, options.limitMs, `no connection within ${options.limitMs} ms`, (signal) => {
    return new Promise<void>((resolve, reject) => {
      const socket = connect({ host, port: check.port })
      const finish = (error?: unknown): void => {
        signal.removeEventListener('abort', onAbort)
        socket.destroy()
        if (error === undefined) resolve()
        else reject(error)
      }
      const onAbort = (): void => finish(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      socket.once('connect', () => finish())
      socket.once('error', (error) => finish(error))
    })
  })
}

/** Resolves when the URL answers with an accepted status (and, for json checks, a matching body). */
export function probeHttp(
  check: HttpCheck | JsonCheck,
  options: AttemptOptions & { dispatcher?: Dispatcher },
): Promise<void> {
  return withAttemptLimit(
    options.signal,
    options.limitMs,
    `no response within ${options.limitMs} ms`,
    async (signal) => {
      const { request } = await importExternal('undici', () => import('undici'))
      const response = await request(check.url, {
        method: 'GET',
        signal,
        // A fresh connection per attempt: a pooled socket to a restarted server says nothing about health.
        reset: true,
        headers: { accept: 'application/json, */*' },
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      })
      const body = await response.body.text()
      if (!statusAccepted(response.statusCode, check.status)) {
        const snippet = body.trim() ? `: ${truncate(body.trim().replace(/\s+/g, ' '), 120)}` : ''
        throw new Error(`HTTP ${response.statusCode} (want ${describeStatusSet(check.status)})${snippet}`)
      }
      if (check.kind !== 'json') return
      let document: unknown
      try {
        document = JSON.parse(body)
      } catch (error) {
        throw new Error(`response is not JSON (${error instanceof Error ? error.message : String(error)})`)
      }
      const problem = jsonExpectationProblem(document, check)
      if (problem !== null) throw new Error(problem)
    },
  )
}

export function statusAccepted(status: number, accepted: readonly number[] | undefined): boolean {
  return accepted === undefined ? status >= 200 && status <= 399 : accepted.includes(status)
}

export function describeStatusSet(accepted: readonly number[] | undefined): string {
  return accepted === undefined ? '200-399' : accepted.join(', ')
}
