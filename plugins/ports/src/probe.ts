import { readFile } from 'node:fs'
import { createServer } from 'node:net'

/** True when 127.0.0.1:port can be bound right now (nothing else listens there). */
export function probePort(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/**
 * The TCP ports something listens on in this network namespace, on any address, from the
 * kernel's tables (/proc/net/tcp and tcp6: one read for all ports, where binding each one to test
 * it costs a socket per port). Undefined where there are no such tables (not Linux).
 */
export async function listeningPorts(): Promise<Set<number> | undefined> {
  // The kernel walks its whole socket table for each file (~3 ms apiece, whatever the few lines it
  // returns): read both at once, with node:fs's own readFile (fs.promises is a module to load).
  const read = (file: string) =>
    new Promise<string | undefined>((resolve) =>
      readFile(file, 'latin1', (error, text) => resolve(error ? undefined : text)),
    )
  const tables = await Promise.all([read('/proc/net/tcp'), read('/proc/net/tcp6')])
  if (tables.every((table) => table === undefined)) return undefined
  const ports = new Set<number>()
  for (const table of tables) {
    for (const line of table?.split('\n').slice(1) ?? []) {
      // "  sl  local_address rem_address   st …": local "0100007F:1F90", st 0A = LISTEN
      const fields = line.trim().split(/\s+/)
      if (fields[3] !== '0A') continue
      const port = Number.parseInt(fields[1]?.split(':')[1] ?? '', 16)
      if (Number.isInteger(port)) ports.add(port)
    }
  }
  return ports
}

/**
 * The subset of `ports` that cannot be used: listened on (on any address: a container publishing
 * on all interfaces would collide with it too), from the kernel's tables where there are some,
 * else each probed by binding 127.0.0.1, concurrently.
 */
export async function busyPorts(
  ports: number[],
  host = '127.0.0.1',
  /** The table {@link listeningPorts} read already (or is reading). */
  table?: Promise<Set<number> | undefined>,
): Promise<number[]> {
  if (ports.length === 0) return []
  const listening = host === '127.0.0.1' ? await (table ?? listeningPorts()) : undefined
  if (listening) return ports.filter((port) => listening.has(port))
  const free = await Promise.all(ports.map((port) => probePort(port, host)))
  return ports.filter((_, index) => !free[index])
}
