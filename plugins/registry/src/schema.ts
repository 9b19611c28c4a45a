import { defineSection, INSTANCE_KINDS, instanceRecordSchema, lazySchema } from '@berth/contract'
import * as z from 'zod'

/** The registry format this berth writes. Version 1 (claims without ports) is read and upgraded in place. */
export const REGISTRY_VERSION = 2

const portNumber = lazySchema(() => z.number().int().min(1).max(65535))

/** A claim as registry version 1 stored it: no ports. */
export const instanceRecordV1Schema = lazySchema(() =>
  z.object({
    id: z.string().min(1),
    project: z.string().min(1),
    kind: z.enum(INSTANCE_KINDS),
    slot: z.number().int().min(0).nullable(),
    path: z.string().min(1),
    repo: z.string().min(1),
    branch: z.string().optional(),
    createdByBerth: z.boolean(),
    createdAt: z.string(),
    /** The berth process that made the claim; a claim whose path is gone and whose owner is dead is stale. */
    owner: z.object({ pid: z.number().int(), startTime: z.string().optional() }).optional(),
  }),
)

/**
 * A claim as this berth stores it: the contract's instance record (what commands show), its ports
 * always recorded, and the berth process that made it. No other instance of any project may claim
 * one of its ports while the claim lives.
 */
export const storedInstanceSchema = lazySchema(() =>
  instanceRecordSchema.extend({
    ports: z.record(z.string(), portNumber),
    owner: instanceRecordV1Schema.shape.owner,
  }),
)

export const registryV1Schema = lazySchema(() =>
  z.object({
    version: z.literal(1),
    instances: z.array(instanceRecordV1Schema),
  }),
)

export const registrySchema = lazySchema(() =>
  z.object({
    version: z.literal(REGISTRY_VERSION),
    instances: z.array(storedInstanceSchema),
  }),
)

export type StoredInstance = z.output<typeof storedInstanceSchema>
export type StoredInstanceV1 = z.output<typeof instanceRecordV1Schema>
export type Registry = z.output<typeof registrySchema>

/** `slots` config section: which slots `impl` may claim and how many exist. */
export const slotsConfigSchema = lazySchema(() =>
  z
    .object({
      pool: z.array(z.number().int().min(1)).min(1).default([1, 2]),
      max: z.number().int().min(1).max(100).default(10),
      reserved: z.array(z.number().int().min(0)).default([0]),
    })
    .strict()
    .superRefine((slots, ctx) => {
      slots.pool.forEach((slot, index) => {
        if (slot > slots.max)
          ctx.addIssue({ code: 'custom', path: ['pool', index], message: `slot ${slot} exceeds max ${slots.max}` })
        if (slots.reserved.includes(slot))
          ctx.addIssue({ code: 'custom', path: ['pool', index], message: `slot ${slot} is reserved` })
      })
    })
    .default({ pool: [1, 2], max: 10, reserved: [0] }),
)

export type SlotsConfig = z.output<typeof slotsConfigSchema>

/** The `slots` section: which slots `impl` may claim and how many exist. */
export const slotsSection = defineSection('slots', slotsConfigSchema)

/**
 * `limits` section: the machine's cap on running stacks. Per-container memory and CPU limits are
 * the compose plugin's (`compose.limits`): they are written into each instance's compose file.
 */
export const limitsConfigSchema = lazySchema(() =>
  z
    .strictObject({
      /**
       * How many stacks may run at once on this machine — every repository's instances registered in
       * this BERTH_HOME, local-prod included. `impl` / `sandbox up` / `local-prod up` beyond it exit 3
       * naming the running ones, or wait with `--queue`. `BERTH_MAX_RUNNING` overrides it. Unset: no cap.
       */
      maxRunning: z.number().int().min(1).max(1000).optional(),
    })
    .prefault({}),
)

export type LimitsConfig = z.output<typeof limitsConfigSchema>

/** The `limits` section: the machine's cap on running stacks. */
export const limitsSection = defineSection('limits', limitsConfigSchema)
