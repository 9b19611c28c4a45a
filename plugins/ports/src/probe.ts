import { closeSync, openSync, read } from 'node:fs'
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
  const tables = await Promise.all([readKernelTable('/proc/net/tcp'), readKernelTable('/proc/net/tcp6')])
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
 * One of the kernel's socket tables, read to its end by one chain of reads in libuv's threads
 * (both tables at once): no open/stat/close round trips as with readFile. The kernel hands out a
 * page per read (~4 kB, ~27 sockets), so the end is only known from a read that returns nothing.
 * Undefined when the file cannot be read.
 */
function readKernelTable(file: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    let fd: number
    try {
      fd = openSync(file, 'r')
    } catch {
      resolve(undefined)
      return
    }
    const buffer = Buffer.allocUnsafe(1 << 16)
    const parts: string[] = []
    const finish = (text: string | undefined) => {
      closeSync(fd)
      resolve(text)
    }
    const next = () =>
      read(fd, buffer, 0, buffer.length, null, (error, bytes) => {
        if (error) return finish(undefined)
        parts.push(buffer.toString('latin1', 0, bytes))
        if (bytes === 0) return finish(parts.join(''))
        next()
      })
    next()
  })
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
