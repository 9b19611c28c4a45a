/**
 * An example of a team's berth plugin, written the way docs/plugins.md describes: one typed step,
 * `seed.load`, that POSTs fixture items to the stack's own API once the startability gate has
 * passed. It declares what it reads and writes — a flag, a config section, an output — so the
 * compiler checks every use, `berth impl --help` lists its flags and `--json` carries its output.
 *
 * Add it to a repository's berth config:
 *   "plugins": ["./tools/seed/index.ts"],
 *   "pipelines": { "stack.up": { "insert": [{ "step": "seed.load", "after": "gate.wait" }] } },
 *   "seed": { "url": "http://127.0.0.1:${API_PORT}/items", "items": [{ "name": "widget" }] }
 */
import {
  defineOutput,
  definePlugin,
  defineSection,
  defineStep,
  flag,
  interpolate,
  OperationError,
  type Plugin,
  referenceProblems,
  UsageError,
} from '@berth/contract'
import { z } from 'zod'

export const SEED_PLUGIN_VERSION = '0.1.0'

/** The `seed` section of the berth config. */
export const seedSection = defineSection(
  'seed',
  z.strictObject({
    /** Where each item is POSTed as JSON; `${VAR}` comes from the instance's `.env.sandbox`. */
    url: z
      .string()
      .min(1)
      .superRefine((url, ctx) => {
        for (const message of referenceProblems(url)) ctx.addIssue({ code: 'custom', message })
      }),
    /** The fixture items, inserted in order. */
    items: z.array(z.record(z.string(), z.unknown())).default([]),
    /** Seconds each request may take. */
    timeout: z.number().positive().default(10),
  }),
)

/** `output.seed` in `--json`, and one line for humans. */
export const seedOutput = defineOutput(
  'seed',
  z.strictObject({
    url: z.string(),
    inserted: z.number().int().min(0),
    /** Items left out (by --seed-limit or --no-seed). */
    skipped: z.number().int().min(0),
  }),
  {
    description: 'what seed.load inserted into the stack',
    render: (seed) => [
      `seeded ${seed.inserted} item(s) into ${seed.url}${seed.skipped > 0 ? ` (${seed.skipped} left out)` : ''}`,
    ],
  },
)

export const seedFlags = {
  'seed-limit': flag.parsed(
    z.string().regex(/^\d+$/, 'must be a whole number, e.g. --seed-limit 2').transform(Number),
    'insert at most N of the configured seed items',
    { value: 'N' },
  ),
  'no-seed': flag.boolean('do not seed the stack'),
}

export const loadStep = defineStep({
  description: 'POSTs the configured seed items to the stack once the gate has passed',
  effect: 'write',
  flags: seedFlags,
  config: seedSection,
  outputs: [seedOutput],
  plan: (ctx) => `POST ${ctx.settings.items.length} seed item(s) to ${ctx.settings.url}`,
  async run(ctx) {
    const target = interpolate(ctx.settings.url, (name) => ctx.env[name])
    if (!target.ok) {
      throw new UsageError(`seed.url uses \${${target.missing}}, which .env.sandbox does not define`, {
        hint: "use one of the instance's variables (see 'berth sandbox status')",
      })
    }
    const url = target.value
    const limit = ctx.flags['no-seed'] ? 0 : (ctx.flags['seed-limit'] ?? ctx.settings.items.length)
    const chosen = ctx.settings.items.slice(0, limit)
    for (const [index, item] of chosen.entries()) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(item),
        signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.settings.timeout * 1000)]),
      }).catch((error: unknown) => {
        throw new OperationError(`seed item ${index + 1}: POST ${url} failed: ${(error as Error).message}`)
      })
      if (!response.ok) {
        throw new OperationError(`seed item ${index + 1}: POST ${url} answered ${response.status}`, {
          hint: 'check the API with berth sandbox logs',
        })
      }
      await response.body?.cancel()
    }
    ctx.log.info(`seed: inserted ${chosen.length} item(s)`)
    ctx.output.seed = { url, inserted: chosen.length, skipped: ctx.settings.items.length - chosen.length }
  },
})

/** The plugin factory berth calls when the config names this file. */
export default function seedPlugin(): Plugin {
  return definePlugin({
    name: 'acme:seed',
    version: SEED_PLUGIN_VERSION,
    sections: [seedSection],
    steps: { load: loadStep },
  })
}
