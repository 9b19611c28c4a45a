import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as z from 'zod'
import { defineOutput, defineSection, defineState, defineStep, flag, type Plugin } from '../src/index.js'
import { makeTestContext, runStep } from '../src/testing.js'

const seedSection = defineSection(
  'seed',
  z.strictObject({ items: z.number().int().default(3), table: z.string().default('widgets') }).prefault({}),
)
const seedOutput = defineOutput('seed', z.object({ inserted: z.number() }), {
  description: 'rows inserted',
  render: (value) => [`seeded ${value.inserted} rows`],
})
const lastRun = defineState<{ at: number }>('seed.lastRun')

const seedStep = defineStep({
  description: 'seeds rows',
  flags: {
    count: flag.parsed(z.coerce.number().int().positive(), 'rows to insert', { value: 'N' }),
    dry: flag.boolean('x'),
  },
  config: seedSection,
  outputs: [seedOutput],
  run(ctx) {
    const count: number | undefined = ctx.flags.count
    const dry: boolean | undefined = ctx.flags.dry
    const table: string = ctx.settings.table
    ctx.output.seed = { inserted: dry ? 0 : (count ?? ctx.settings.items) }
    lastRun.set(ctx, { at: table.length })
    if (ctx.task !== 'type-errors') return
    // @ts-expect-error a flag the step did not declare
    void ctx.flags.cuont
    // @ts-expect-error a config key the section does not have
    void ctx.settings.itmes
    // @ts-expect-error an output key the step did not declare
    ctx.output.sede = { inserted: 1 }
    // @ts-expect-error an output value of the wrong shape
    ctx.output.seed = { inserted: 'many' }
  },
})

test('a typed step sees its flags, section and outputs', async () => {
  const plugin: Plugin = { name: 'acme:seed', version: '1.0.0', sections: [seedSection], steps: { load: seedStep } }
  const ctx = makeTestContext({
    root: '/tmp',
    config: [seedSection],
    sections: { seed: { items: 5 } },
    flags: { dry: false },
  })
  await runStep(plugin.steps.load!, ctx)
  assert.deepEqual(ctx.output, { seed: { inserted: 5 } })
  assert.deepEqual(lastRun.get(ctx), { at: 7 })
})
