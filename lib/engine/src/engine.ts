import { type EngineContainer, EnvironmentError } from '@berth/contract'

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

/** The status and raw body of one engine API answer. */
export interface EngineAnswer {
  statusCode: number
  body: Buffer
}

/**
 * One HTTP request to the engine API over its unix socket, answering the status whatever it is
 * (a 404 on DELETE means "already gone"). Throws an {@link EnvironmentError} (exit 4) naming the
 * socket only when the engine does not answer in time.
 *
 * This uses node:http rather than undici (the gate's HTTP client): one short request over a
 * local socket needs nothing more, and loading undici cost every `berth` command ~130 ms of CPU
 * plus ~100 ms before the process could exit (measured in bench/PROFILE.md).
 */
export async function engineCall(path: string, options: EngineRequestOptions = {}): Promise<EngineAnswer> {
  const socketPath = options.socketPath ?? dockerSocketPath()
  const timeout = options.timeoutMs ?? 2000
  const { request } = await import('node:http')
  try {
    return await new Promise<EngineAnswer>((resolve, reject) => {
      const req = request({ socketPath, path, method: options.method ?? 'GET', headers: { host: 'docker' } }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks) }))
        res.on('error', reject)
      })
      req.setTimeout(timeout, () => req.destroy(new Error(`no answer within ${timeout} ms`)))
      req.on('error', reject)
      req.end()
    })
  } catch (error) {
    throw new EnvironmentError(`Docker engine not reachable at ${socketPath}`, {
      code: 'E_NO_ENGINE',
      hint: 'start Docker (or set DOCKER_HOST=unix:///path/to/docker.sock) and try again',
      cause: error,
    })
  }
}

/**
 * One engine API request whose answer must succeed: JSON is parsed (a few endpoints such as
 * `/_ping` answer plain text, returned as it is). Exit 4 when the engine does not answer or
 * refuses.
 */
export async function engineRequest<T>(path: string, options: EngineRequestOptions = {}): Promise<T> {
  const answer = await engineCall(path, options)
  const text = answer.body.toString('utf8')
  if (answer.statusCode >= 400) {
    throw new EnvironmentError(`Docker engine answered ${answer.statusCode} for ${path}: ${text.trim()}`)
  }
  try {
    return (text ? JSON.parse(text) : undefined) as T
  } catch {
    return text as T
  }
}

/**
 * The text of a `GET /containers/<id>/logs` answer. A container without a TTY answers with the
 * engine's multiplexed stream (8-byte header per frame: stream byte, three zero bytes, big-endian
 * length); a TTY container's answer is the raw text.
 */
export function demuxLogStream(body: Buffer): string {
  const frames: Buffer[] = []
  let offset = 0
  while (offset < body.length) {
    const header = body.subarray(offset, offset + 8)
    const stream = header[0]
    const framed =
      header.length === 8 && (stream === 0 || stream === 1 || stream === 2) && header.readUIntBE(1, 3) === 0
    if (!framed) return offset === 0 ? body.toString('utf8') : Buffer.concat(frames).toString('utf8')
    const size = header.readUInt32BE(4)
    frames.push(body.subarray(offset + 8, offset + 8 + size))
    offset += 8 + size
  }
  return Buffer.concat(frames).toString('utf8')
}

/** The last `tail` lines (stdout and stderr, in order) of one container, straight from the engine. */
export async function containerLogTail(id: string, tail: number, options: EngineRequestOptions = {}): Promise<string> {
  const path = `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1&tail=${tail}`
  const answer = await engineCall(path, { timeoutMs: 10_000, ...options })
  if (answer.statusCode >= 400) {
    throw new EnvironmentError(
      `Docker engine answered ${answer.statusCode} for ${path}: ${answer.body.toString().trim()}`,
    )
  }
  return demuxLogStream(answer.body)
}

/** The containers of one compose project (running or not), in one request. */
export function projectContainerList(project: string, options?: EngineRequestOptions): Promise<EngineContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }))
  return engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${filters}`, options)
}

/**
 * How many containers and volumes the engine holds for compose project `project` (two requests):
 * what removing its checkout would orphan — a stack's volumes hold its data.
 */
export async function projectResourceCounts(
  project: string,
  options?: EngineRequestOptions,
): Promise<{ containers: number; volumes: number }> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`com.docker.compose.project=${project}`] }))
  const [containers, volumes] = await Promise.all([
    projectContainerList(project, options),
    engineRequest<{ Volumes: unknown[] | null }>(`/volumes?filters=${filters}`, options),
  ])
  return { containers: containers.length, volumes: volumes.Volumes?.length ?? 0 }
}

/** All containers carrying a compose project label, in one request. */
export function listComposeContainers(options?: EngineRequestOptions): Promise<EngineContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: ['com.docker.compose.project'] }))
  return engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${filters}`, options)
}
