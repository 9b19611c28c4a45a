import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createTcpServer, type Server } from 'node:net'

export interface RunningServer {
  port: number
  url(path?: string): string
  close(): Promise<void>
}

/** An HTTP server on 127.0.0.1 with an ephemeral port. */
export async function startHttpServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void,
): Promise<RunningServer> {
  const server = createHttpServer(handler)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  return {
    port,
    url: (path = '/') => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A port that was free a moment ago (the kernel hands out ephemeral ports well above 20000). */
export async function freePort(): Promise<number> {
  const server = createTcpServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await closeServer(server)
  return port
}

/** Starts a TCP listener on `port` after `delayMs`; `close()` stops it (or cancels the start). */
export function listenTcpLater(port: number, delayMs: number): { listening: Promise<number>; close(): Promise<void> } {
  const server = createTcpServer((socket) => socket.destroy())
  let timer: NodeJS.Timeout | undefined
  const listening = new Promise<number>((resolve, reject) => {
    timer = setTimeout(() => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => resolve(performance.now()))
    }, delayMs)
  })
  return {
    listening,
    close: async () => {
      clearTimeout(timer)
      if (server.listening) await closeServer(server)
    },
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())))
}
