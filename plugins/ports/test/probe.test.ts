import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:net'
import { after, describe, test } from 'node:test'
import { busyPorts, listeningPorts, probePort } from '../src/index.js'

const servers: Server[] = []
after(async () => {
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
})

/** `count` distinct ports in this file's range (41000-41499) that are free right now. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) {
    const port = 41000 + Math.floor(Math.random() * 500)
    if (!ports.has(port) && (await probePort(port))) ports.add(port)
  }
  return [...ports]
}

const freePort = async () => (await freePorts(1))[0]!

function listen(port: number, host = '127.0.0.1'): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, host, () => {
      servers.push(server)
      resolve(server)
    })
  })
}

describe('probePort', () => {
  test('is true for a port nothing listens on, and leaves it free', async () => {
    const port = await freePort()
    assert.equal(await probePort(port), true)
    assert.equal(await probePort(port), true, 'the probe closed its own listener')
  })

  test('is false for a port a server has bound on 127.0.0.1', async () => {
    const port = await freePort()
    await listen(port)
    assert.equal(await probePort(port), false)
  })

  test('is false on 127.0.0.1 for a port a server has bound on all interfaces', async () => {
    const port = await freePort()
    await listen(port, '0.0.0.0')
    assert.equal(await probePort(port), false)
  })
})

describe('busyPorts', () => {
  test('returns exactly the bound ports, in the order asked', async () => {
    const [a, b, c] = (await freePorts(3)) as [number, number, number]
    await listen(c)
    await listen(a)
    assert.deepEqual(await busyPorts([a, b, c]), [a, c])
  })

  test('sees a port listened on another local address than 127.0.0.1, and on IPv6', async () => {
    const [a, b] = (await freePorts(2)) as [number, number]
    await listen(a, '0.0.0.0')
    await listen(b, '::1').catch(() => listen(b, '0.0.0.0'))
    assert.deepEqual(await busyPorts([a, b]), [a, b])
  })

  test('answers as binding each port would, from the kernel tables', async () => {
    const ports = await freePorts(5)
    await listen(ports[1]!)
    await listen(ports[3]!, '0.0.0.0')
    const probed = []
    for (const port of ports) if (!(await probePort(port))) probed.push(port)
    assert.deepEqual(await busyPorts(ports), probed)
  })

  test('is empty for no ports', async () => {
    assert.deepEqual(await busyPorts([]), [])
  })
})

describe('listeningPorts', () => {
  test('reads the whole kernel table, past its first page (~27 sockets a read)', async () => {
    const ports = await freePorts(120)
    await Promise.all(ports.map((port) => listen(port)))
    const listening = await listeningPorts()
    assert.ok(listening, 'Linux has /proc/net/tcp')
    assert.deepEqual(
      ports.filter((port) => !listening.has(port)),
      [],
      'every listener is seen',
    )
    assert.deepEqual((await busyPorts(ports)).sort(), [...ports].sort())
  })
})
