import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { PublishedHostPorts } from '@berth/contract'
import { makeTestContext } from '@berth/contract/testing'
import fc from 'fast-check'
import {
  defaultPortLayout,
  derivedPortName,
  derivedPortsSchema,
  derivedProblems,
  derivedSlotPorts,
  nameHostPorts,
  portsConfigSchema,
  portsPlugin,
  slotPorts,
} from '../src/index.js'

const block = derivedPortsSchema.parse({})

describe('ports for published host ports', () => {
  test('a fixed host port is named by the layout variable whose slot-0 port it is, else by a derived name', () => {
    const layout = portsConfigSchema.parse({ DB_PORT: { base: 5432, stride: 10 } })
    const published: PublishedHostPorts[] = [
      { service: 'db', ports: [5432] },
      { service: 'cache', ports: [6379] },
      { service: 'my-api.v2', ports: [8080] },
    ]
    assert.deepEqual(nameHostPorts(layout, published), [['DB_PORT'], ['CACHE_6379_PORT'], ['MY_API_V2_8080_PORT']])
    assert.equal(derivedPortName('1st', 80), '_1ST_80_PORT')
  })

  test("the KTRDR preset names a foreign stack's 5432, 8000 and worker range by its own variables", () => {
    const published: PublishedHostPorts[] = [
      { service: 'postgres', ports: [5432] },
      { service: 'api', ports: [8000] },
      { service: 'workers', ports: [5003, 5004, 5005, 5006] },
      { service: 'odd', ports: [5004, 5005] },
    ]
    assert.deepEqual(nameHostPorts(defaultPortLayout(), published), [
      ['KTRDR_DB_PORT'],
      ['KTRDR_API_PORT'],
      ['KTRDR_WORKER_PORT_1', 'KTRDR_WORKER_PORT_2', 'KTRDR_WORKER_PORT_3', 'KTRDR_WORKER_PORT_4'],
      ['KTRDR_WORKER_PORT_2', 'KTRDR_WORKER_PORT_3'],
    ])
  })

  test("derived ports take the slot's block in port order, a range's together", () => {
    const published: PublishedHostPorts[] = [
      { service: 'web', ports: [8080] },
      { service: 'cache', ports: [6379] },
      { service: 'ftp', ports: [21000, 21001, 21002] },
    ]
    assert.deepEqual(derivedSlotPorts({}, block, published, 2), {
      CACHE_6379_PORT: 30040,
      WEB_8080_PORT: 30041,
      FTP_21000_PORT: 30042,
      FTP_21001_PORT: 30043,
      FTP_21002_PORT: 30044,
    })
  })

  test('more unnamed ports than a block holds is a usage error naming the way out', () => {
    const published = Array.from({ length: 3 }, (_, i) => ({ service: 's', ports: [7000 + i] }))
    assert.throws(
      () => derivedSlotPorts({}, { base: 30000, stride: 2 }, published, 1),
      (error: Error & { exitCode?: number }) =>
        error.exitCode === 2 &&
        /3 fixed host ports the ports layout does not name, more than derivedPorts\.stride \(2\)/.test(error.message),
    )
    assert.match(
      derivedProblems({}, { base: 30000, stride: 2 }, published, 10).join('\n'),
      /do not fit in 2 ports per slot/,
    )
  })

  test('a derived block that meets a layout port of some slot is reported with both names', () => {
    const layout = portsConfigSchema.parse({ API_PORT: { base: 30010, stride: 1 } })
    const problems = derivedProblems(layout, { base: 30000, stride: 5 }, [{ service: 'cache', ports: [6379] }], 10)
    assert.ok(
      problems.some((problem) =>
        /slot 2 gives CACHE_6379_PORT port 30010, already used by API_PORT of slot 0/.test(problem),
      ),
    )
  })

  test('property: when no problem is reported, no two ports of slots 0..max collide (layout and derived together)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1000, max: 9000 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 1, max: 12 }),
        (hostPorts, maxSlot) => {
          const published = hostPorts.map((port, i) => ({ service: `svc${i % 3}`, ports: [port] }))
          if (derivedProblems(defaultPortLayout(), block, published, maxSlot).length > 0) return
          const seen = new Map<number, string>()
          for (let slot = 0; slot <= maxSlot; slot++) {
            const ports = {
              ...slotPorts(defaultPortLayout(), slot),
              ...derivedSlotPorts(defaultPortLayout(), block, published, slot),
            }
            for (const [name, port] of Object.entries(ports)) {
              const owner = seen.get(port)
              assert.equal(owner, undefined, `${name} of slot ${slot} takes ${port}, also ${owner}`)
              seen.set(port, `${name} of slot ${slot}`)
            }
          }
        },
      ),
    )
  })

  test("the plugin's slotPorts service adds the compose files' unnamed ports to the layout's", async () => {
    const ctx = makeTestContext({
      root: process.cwd(),
      config: [],
      sections: { ports: portsConfigSchema.parse({ DB_PORT: { base: 5432, stride: 10 } }) },
    })
    Object.assign(ctx.services, {
      publishedHostPorts: (known: string[]) => {
        assert.deepEqual(known, ['DB_PORT'])
        return [
          { service: 'db', ports: [5432] },
          { service: 'cache', ports: [6379] },
        ]
      },
    })
    const services = await portsPlugin().services?.(ctx)
    assert.deepEqual(services?.slotPorts?.(3), { DB_PORT: 5462, CACHE_6379_PORT: 30060 })
    assert.deepEqual(services?.nameHostPorts?.([{ service: 'cache', ports: [6379] }]), [['CACHE_6379_PORT']])
  })
})
