import { createServer } from 'node:net'

/** True when 127.0.0.1:port can be bound right now (nothing else listens there). */
export function probePort(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** The subset of `ports` that cannot be bound, probed concurrently. */
export async function busyPorts(ports: number[], host = '127.0.0.1'): Promise<number[]> {
  const free = await Promise.all(ports.map((port) => probePort(port, host)))
  return ports.filter((_, index) => !free[index])
}
