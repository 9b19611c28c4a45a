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
 * A plain HTTP/1.0 exchange on a node:net socket (the engine answers a 1.0 request with the whole
 * body and closes): berth's requests carry no body, and node:http's client (and before it undici:
 * ~130 ms of CPU plus ~100 ms before the process could exit, bench/PROFILE.md) cost more to load
 * than the request itself on a command an agent runs in a loop (issue 16).
 */
export async function engineCall(path: string, options: EngineRequestOptions = {}): Promise<EngineAnswer> {
  const socketPath = options.socketPath ?? dockerSocketPath()
  const timeout = options.timeoutMs ?? 2000
  const { connect } = await import('node:net')
  try {
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const socket = connect({ path: socketPath })
      const chunks: Buffer[] = []
      socket.setTimeout(timeout, () => socket.destroy(new Error(`no answer within ${timeout} ms`)))
      socket.on('connect', () =>
        socket.write(`${options.method ?? 'GET'} ${path} HTTP/1.0\r\nHost: docker\r\nContent-Length: 0\r\n\r\n`),
      )
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      socket.on('end', () => resolve(Buffer.concat(chunks)))
      socket.on('error', reject)
    })
    return parseAnswer(raw)
  } catch (error) {
    throw new EnvironmentError(`Docker engine not reachable at ${socketPath}`, {
      code: 'E_NO_ENGINE',
      hint: 'start Docker (or set DOCKER_HOST=unix:///path/to/docker.sock) and try again',
      cause: error,
    })
  }
}

/** Status and body of a whole HTTP/1.x answer (a chunked body is decoded). */
export function parseAnswer(raw: Buffer): EngineAnswer {
  const headerEnd = raw.indexOf('\r\n\r\n')
  if (headerEnd < 0) throw new Error('the engine closed the connection before a complete answer')
  const head = raw.subarray(0, headerEnd).toString('latin1').split('\r\n')
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(head[0] ?? '')
  if (!status) throw new Error(`not an HTTP answer: ${JSON.stringify((head[0] ?? '').slice(0, 60))}`)
  let body = raw.subarray(headerEnd + 4)
  const chunked = head.some((line) => /^transfer-encoding:\s*chunked/i.test(line))
  if (chunked) {
    const parts: Buffer[] = []
    let offset = 0
    for (;;) {
      const lineEnd = body.indexOf('\r\n', offset)
      if (lineEnd < 0) break
      const size = Number.parseInt(body.subarray(offset, lineEnd).toString('latin1'), 16)
      if (!Number.isFinite(size) || size === 0) break
      parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size))
      offset = lineEnd + 2 + size + 2
    }
    body = Buffer.concat(parts)
  }
  return { statusCode: Number(status[1]), body }
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
