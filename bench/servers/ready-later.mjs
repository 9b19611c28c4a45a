/**
 * A TCP service that becomes ready at a known moment, for the gate-lag scenario.
 * Usage: node ready-later.mjs PORT
 * Reads one line `<delayMs>` on stdin, waits that long, then listens on 127.0.0.1:PORT. Prints
 * one JSON line per event with the monotonic clock (`process.hrtime.bigint()`, shared by every
 * process of the machine): `listening` when it accepts connections, `connection` for the first
 * connection. Exits after the first connection, or after 60 s.
 */
import { createServer } from 'node:net'

const port = Number(process.argv[2])
const emit = (event) => process.stdout.write(`${JSON.stringify({ event, t: process.hrtime.bigint().toString() })}\n`)
const bail = setTimeout(() => process.exit(3), 60_000)

let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  input += chunk
  if (!input.includes('\n')) return
  process.stdin.destroy()
  const delayMs = Number(input.trim())
  setTimeout(listen, delayMs)
})
emit('started')

function listen() {
  let first = true
  const server = createServer((socket) => {
    if (first) {
      first = false
      emit('connection')
      server.close()
      clearTimeout(bail)
    }
    socket.end()
  })
  server.listen(port, '127.0.0.1', () => emit('listening'))
}
