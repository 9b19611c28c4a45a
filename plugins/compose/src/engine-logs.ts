import { dockerSocketPath, type EngineContainer, EnvironmentError, engineRequest } from '@berth/contract'
import { PROJECT_LABEL } from './engine.js'

const SERVICE_LABEL = 'com.docker.compose.service'
const NUMBER_LABEL = 'com.docker.compose.container-number'

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

/** The last `tail` lines (stdout and stderr, in order) of one container, through the engine API. */
export async function containerLogTail(
  id: string,
  tail: number,
  options: { socketPath?: string } = {},
): Promise<string> {
  const socketPath = options.socketPath ?? dockerSocketPath()
  const { Client } = await import('undici')
  const client = new Client('http://localhost', { socketPath, connect: { timeout: 2000 } })
  const path = `/containers/${encodeURIComponent(id)}/logs?stdout=1&stderr=1&tail=${tail}`
  try {
    const response = await client.request({ path, method: 'GET', headersTimeout: 5000, bodyTimeout: 5000 })
    const body = Buffer.from(await response.body.arrayBuffer())
    if (response.statusCode >= 400) {
      throw new EnvironmentError(`Docker engine answered ${response.statusCode} for ${path}: ${body.toString().trim()}`)
    }
    return demuxLogStream(body)
  } finally {
    await client.close().catch(() => {})
  }
}

/**
 * The last `tail` lines of the named services (all when empty) of one compose project, prefixed
 * `service-N | ` like compose's own output: one request to find the containers, one per container
 * for its log — no compose process, so a failing gate can explain itself at once.
 */
export async function projectLogTail(
  project: string,
  services: string[],
  tail: number,
  options: { socketPath?: string } = {},
): Promise<string> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }))
  const containers = await engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${filters}`, options)
  const chosen = containers
    .map((container) => ({
      container,
      name: `${container.Labels[SERVICE_LABEL] ?? '?'}-${container.Labels[NUMBER_LABEL] ?? '1'}`,
      service: container.Labels[SERVICE_LABEL] ?? '',
    }))
    .filter(({ service }) => services.length === 0 || services.includes(service))
    .sort((a, b) => a.name.localeCompare(b.name))
  const width = Math.max(0, ...chosen.map(({ name }) => name.length))
  const blocks = await Promise.all(
    chosen.map(async ({ container, name }) => {
      const text = (await containerLogTail(container.Id, tail, options)).replace(/\r?\n$/, '')
      if (!text) return ''
      return text
        .split(/\r?\n/)
        .map((line) => `${name.padEnd(width)} | ${line}`)
        .join('\n')
    }),
  )
  return blocks.filter(Boolean).join('\n')
}
