import { EnvironmentError } from './errors.js'

/**
 * The Docker engine's unix socket: `DOCKER_HOST=unix://…` when set, else `/var/run/docker.sock`.
 * Plugins query the engine API directly (one request for all instances), never one `docker`
 * process per instance.
 */
export function dockerSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST
  if (host?.startsWith('unix://')) return host.slice('unix://'.length)
  return '/var/run/docker.sock'
}

export interface EngineRequestOptions {
  method?: 'GET' | 'POST' | 'DELETE'
  /** Default 2000 ms: an engine that does not answer in that time counts as unreachable. */
  timeoutMs?: number
  socketPath?: string
}

/**
 * One HTTP request to the engine API over its socket (undici, loaded lazily). Throws an
 * {@link EnvironmentError} (exit 4) naming the socket when the engine does not answer.
 */
export async function engineRequest<T>(path: string, options: EngineRequestOptions = {}): Promise<T> {
  const socketPath = options.socketPath ?? dockerSocketPath()
  const { Client } = await import('undici')
  const client = new Client('http://localhost', { socketPath, connect: { timeout: options.timeoutMs ?? 2000 } })
  try {
    const response = await client.request({
      path,
      method: options.method ?? 'GET',
      headersTimeout: options.timeoutMs ?? 2000,
      bodyTimeout: options.timeoutMs ?? 2000,
    })
    const text = await response.body.text()
    if (response.statusCode >= 400) {
      throw new EnvironmentError(`Docker engine answered ${response.statusCode} for ${path}: ${text.trim()}`)
    }
    // Most endpoints answer JSON; a few (`/_ping`) answer plain text.
    try {
      return (text ? JSON.parse(text) : undefined) as T
    } catch {
      return text as T
    }
  } catch (error) {
    if (error instanceof EnvironmentError) throw error
    throw new EnvironmentError(`Docker engine not reachable at ${socketPath}`, {
      code: 'E_NO_ENGINE',
      hint: 'start Docker (or set DOCKER_HOST=unix:///path/to/docker.sock) and try again',
      cause: error,
    })
  } finally {
    await client.close().catch(() => {})
  }
}

/** The subset of `GET /containers/json` berth reads. */
export interface EngineContainer {
  Id: string
  Names: string[]
  Image: string
  State: string
  Status: string
  Created: number
  Labels: Record<string, string>
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]
}

/** All containers carrying a compose project label, in one request. */
export function listComposeContainers(options?: EngineRequestOptions): Promise<EngineContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: ['com.docker.compose.project'] }))
  return engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${filters}`, options)
}
