/**
 * Host ports for the fixtures: blocks of 100 in 50000-59999 that nothing on this machine holds
 * right now (other people's stacks and tests share the machine), never the same block twice in
 * one run.
 */
import { createServer } from 'node:net'

const FIRST = 50000
const BLOCKS = 100
const taken = new Set()

function portFree(port) {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** The first port of a block of 100 free ports. */
export async function freePortBlock() {
  const start = Math.floor(Math.random() * BLOCKS)
  for (let i = 0; i < BLOCKS; i++) {
    const block = (start + i) % BLOCKS
    if (taken.has(block)) continue
    const base = FIRST + block * 100
    const free = await Promise.all(Array.from({ length: 100 }, (_, n) => portFree(base + n)))
    if (free.every(Boolean)) {
      taken.add(block)
      return base
    }
  }
  throw new Error('no block of 100 free ports in 50000-59999')
}
