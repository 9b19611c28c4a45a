import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import fc from 'fast-check'
import {
  defaultPortLayout,
  diagnoseLayout,
  layoutProblems,
  type PortLayout,
  portsConfigSchema,
  slotPorts,
} from '../src/index.js'

async function ktrdrLayout(): Promise<PortLayout> {
  return defaultPortLayout()
}

const KTRDR_VECTOR: Record<number, Record<string, number>> = {
  0: {
    KTRDR_API_PORT: 8000,
    KTRDR_DB_PORT: 5432,
    KTRDR_GRAFANA_PORT: 3000,
    KTRDR_JAEGER_UI_PORT: 16686,
    KTRDR_JAEGER_OTLP_GRPC_PORT: 4317,
    KTRDR_JAEGER_OTLP_HTTP_PORT: 4318,
    KTRDR_PROMETHEUS_PORT: 9090,
    KTRDR_WORKER_PORT_1: 5003,
    KTRDR_WORKER_PORT_2: 5004,
    KTRDR_WORKER_PORT_3: 5005,
    KTRDR_WORKER_PORT_4: 5006,
  },
  1: {
    KTRDR_API_PORT: 8001,
    KTRDR_DB_PORT: 5433,
    KTRDR_GRAFANA_PORT: 3001,
    KTRDR_JAEGER_UI_PORT: 16687,
    KTRDR_JAEGER_OTLP_GRPC_PORT: 4327,
    KTRDR_JAEGER_OTLP_HTTP_PORT: 4328,
    KTRDR_PROMETHEUS_PORT: 9091,
    KTRDR_WORKER_PORT_1: 5007,
    KTRDR_WORKER_PORT_2: 5008,
    KTRDR_WORKER_PORT_3: 5009,
    KTRDR_WORKER_PORT_4: 5010,
  },
  2: {
    KTRDR_API_PORT: 8002,
    KTRDR_DB_PORT: 5434,
    KTRDR_GRAFANA_PORT: 3002,
    KTRDR_JAEGER_UI_PORT: 16688,
    KTRDR_JAEGER_OTLP_GRPC_PORT: 4337,
    KTRDR_JAEGER_OTLP_HTTP_PORT: 4338,
    KTRDR_PROMETHEUS_PORT: 9092,
    KTRDR_WORKER_PORT_1: 5017,
    KTRDR_WORKER_PORT_2: 5018,
    KTRDR_WORKER_PORT_3: 5019,
    KTRDR_WORKER_PORT_4: 5020,
  },
}

describe('slotPorts', () => {
  for (const slot of [0, 1, 2]) {
    test(`maps slot ${slot} of the KTRDR preset to the reference tool's ports`, async () => {
      assert.deepEqual(slotPorts(await ktrdrLayout(), slot), KTRDR_VECTOR[slot])
    })
  }

  test('the KTRDR preset is sound over slots 0..10', async () => {
    assert.deepEqual(layoutProblems(await ktrdrLayout(), 10), [])
  })

  test('fills stride 1 and count 1 when a user writes only a base', () => {
    const layout = portsConfigSchema.parse({ ACME_API_PORT: { base: 9100 } })
    assert.deepEqual(layout.ACME_API_PORT, { base: 9100, stride: 1, count: 1 })
    assert.deepEqual(slotPorts(layout, 3), { ACME_API_PORT: 9103 })
  })

  test('numbers counted ports NAME_1..NAME_k consecutively from base + slot*stride', () => {
    const layout = portsConfigSchema.parse({ ACME_WORKER_PORT: { base: 7000, stride: 10, count: 2 } })
    assert.deepEqual(slotPorts(layout, 2), { ACME_WORKER_PORT_1: 7020, ACME_WORKER_PORT_2: 7021 })
  })

  test('rejects a variable name that is not an environment variable name', () => {
    const parsed = portsConfigSchema.safeParse({ 'bad-name': { base: 9000 } })
    assert.equal(parsed.success, false)
  })
})

describe('layoutProblems', () => {
  test('reports two variables whose slots overlap', () => {
    const problems = layoutProblems(portsConfigSchema.parse({ A_PORT: { base: 9000 }, B_PORT: { base: 9001 } }), 2)
    assert.ok(
      problems.some((p) => p.includes('9001')),
      problems.join('\n'),
    )
  })

  test('reports a port pushed beyond 65535 by a high slot', () => {
    const problems = layoutProblems(portsConfigSchema.parse({ A_PORT: { base: 65530, stride: 10 } }), 1)
    assert.deepEqual(problems, ['ports.A_PORT: slot 1 maps to 65540, outside 1..65535'])
  })

  test('reports an entry that generates a variable another entry already defines', () => {
    const layout = portsConfigSchema.parse({ W: { base: 5000, count: 2 }, W_1: { base: 6000 } })
    const problems = layoutProblems(layout, 1)
    assert.deepEqual(problems, ['ports.W_1: defines W_1, which ports.W already defines'])
  })
})

describe('diagnoseLayout', () => {
  test('reports a sound layout as ok', async () => {
    const [diagnosis] = diagnoseLayout(await ktrdrLayout(), 10)
    assert.deepEqual(diagnosis, {
      check: 'port layout',
      status: 'ok',
      detail: '11 port(s) per slot, slots 0..10 never overlap',
    })
  })

  test('fails (exit 1) once per problem, with a hint, when slots up to max overlap', async () => {
    // The KTRDR workers (4997+10N) reach the database ports (5432+N) from slot 44 on.
    const diagnoses = diagnoseLayout(await ktrdrLayout(), 50)
    assert.ok(diagnoses.length > 0)
    for (const diagnosis of diagnoses) {
      assert.equal(diagnosis.status, 'fail')
      assert.equal(diagnosis.exitCode, 1)
      assert.match(diagnosis.hint ?? '', /slots 0\.\.50/)
    }
    assert.ok(diagnoses.some((d) => d.detail.includes('KTRDR_DB_PORT')))
  })
})

/** Every (variable, port) a layout generates, entry by entry, before any merging by name. */
function generated(layout: PortLayout, maxSlot: number): { names: string[]; ports: number[] } {
  const names: string[] = []
  const ports: number[] = []
  for (const [name, spec] of Object.entries(layout)) {
    names.push(...Object.keys(slotPorts({ [name]: spec }, 0)))
    for (let slot = 0; slot <= maxSlot; slot++) ports.push(...Object.values(slotPorts({ [name]: spec }, slot)))
  }
  return { names, ports }
}

const specArbitrary = (base: fc.Arbitrary<number>) =>
  fc.record(
    {
      base,
      stride: fc.integer({ min: 1, max: 1000 }),
      count: fc.integer({ min: 1, max: 100 }),
      slot0: fc.integer({ min: 1, max: 65535 }),
    },
    { requiredKeys: ['base', 'stride', 'count'] },
  )

/** Mostly sound layouts: few variables, small strides and counts, bases far apart. */
const spacedLayout = fc
  .uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: 1, maxLength: 6 })
  .chain((blocks) =>
    fc.tuple(
      ...blocks.map((block) =>
        fc.record({
          base: fc.constant(block * 1000),
          stride: fc.integer({ min: 1, max: 10 }),
          count: fc.integer({ min: 1, max: 4 }),
        }),
      ),
    ),
  )
  .map((specs) => Object.fromEntries(specs.map((spec, i) => [`P${i}_PORT`, spec])))

/** Anything the schema accepts, including overlapping and out-of-range layouts and name clashes. */
const anyLayout = fc.dictionary(
  fc.constantFrom('A', 'A_1', 'A_2', 'B', 'B_PORT', 'C_PORT'),
  specArbitrary(fc.integer({ min: 1, max: 65535 })),
  { minKeys: 1, maxKeys: 4 },
)

describe('layoutProblems (property)', () => {
  test('accepts a layout exactly when no two slots of 0..max share a port and every port is in 1..65535', () => {
    let accepted = 0
    fc.assert(
      fc.property(fc.oneof(spacedLayout, anyLayout), fc.integer({ min: 0, max: 20 }), (raw, maxSlot) => {
        const layout = portsConfigSchema.parse(raw)
        const problems = layoutProblems(layout, maxSlot)
        const { names, ports } = generated(layout, maxSlot)
        const sound =
          new Set(names).size === names.length &&
          new Set(ports).size === ports.length &&
          ports.every((port) => port >= 1 && port <= 65535)
        assert.equal(problems.length === 0, sound, `problems: ${problems.join('; ')}`)
        if (problems.length === 0) accepted++
      }),
      { numRuns: 300 },
    )
    assert.ok(accepted > 30, `only ${accepted} of 300 generated layouts were sound; the property is too vacuous`)
  })

  test('the ports of an accepted layout never collide across slots', () => {
    fc.assert(
      fc.property(spacedLayout, fc.integer({ min: 0, max: 20 }), (raw, maxSlot) => {
        const layout = portsConfigSchema.parse(raw)
        fc.pre(layoutProblems(layout, maxSlot).length === 0)
        const seen = new Set<number>()
        for (let slot = 0; slot <= maxSlot; slot++) {
          for (const port of Object.values(slotPorts(layout, slot))) {
            assert.ok(port >= 1 && port <= 65535, `port ${port} of slot ${slot}`)
            assert.ok(!seen.has(port), `port ${port} of slot ${slot} is used twice`)
            seen.add(port)
          }
        }
      }),
      { numRuns: 200 },
    )
  })
})
