import { z } from 'zod'

const names = z.array(z.string().min(1))

/** `compose.lint`: which parallel-instance hazards to tolerate. */
export const composeLintSchema = z
  .strictObject({
    /** Set to false to skip `compose.lint` entirely. */
    enabled: z.boolean().default(true),
    /** Services allowed to publish a literal host port (they can then run in one instance only). */
    allowFixedPorts: names.default([]),
    /** Top-level volumes/networks meant to be shared by all instances (`external: true` or a fixed `name:`). */
    allowShared: names.default([]),
  })
  .prefault({})

/**
 * The `compose` config section. Users write the lenient form (every key optional); steps read the
 * resolved form. `files` stays optional: its default depends on which file exists in the checkout.
 */
export const composeConfigSchema = z
  .strictObject({
    /** Compose files relative to the config root; resolved inside each instance's checkout. */
    files: names.min(1).optional(),
    /** Services `up` starts (default: all). */
    services: names.optional(),
    /** Compose profiles to enable (`--profile`). */
    profiles: names.default([]),
    lint: composeLintSchema,
  })
  .prefault({})

/** What users write in their config. */
export type ComposeConfigInput = z.input<typeof composeConfigSchema>
/** What steps read: defaults filled in. */
export type ComposeConfig = z.output<typeof composeConfigSchema>
