import { lazySchema } from '@berth/contract'
import * as z from 'zod'

const NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/
const STEP_REF = /^([a-z0-9][a-z0-9_-]*\.[A-Za-z][A-Za-z0-9_-]*|@[a-z0-9][a-z0-9.-]*)$/

export const stepRefSchema = lazySchema(() =>
  z.string().regex(STEP_REF, 'must name a step as <plugin>.<step> (e.g. compose.up) or include a pipeline as @<name>'),
)

export const pipelineEditSchema = lazySchema(() =>
  z
    .object({
      remove: z.array(stepRefSchema).optional(),
      replace: z.record(stepRefSchema, stepRefSchema).optional(),
      insert: z
        .array(
          z
            .object({ step: stepRefSchema, before: stepRefSchema.optional(), after: stepRefSchema.optional() })
            .strict()
            .refine((i) => (i.before === undefined) !== (i.after === undefined), 'give exactly one of before/after'),
        )
        .optional(),
      append: z.array(stepRefSchema).optional(),
    })
    .strict(),
)

export const pluginEntrySchema = lazySchema(() =>
  z.union([
    z.string().min(1),
    z.object({ use: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }).strict(),
  ]),
)

/** The keys the runner itself owns; plugins add their sections (ports, slots, compose, …). */
export const CORE_KEYS = ['$schema', 'project', 'plugins', 'pipelines'] as const

const buildCoreShape = () => ({
  $schema: z.string().optional(),
  project: z
    .string()
    .regex(NAME, 'must be lower-case letters, digits, ".", "_" or "-" (1-63), starting with a letter or digit')
    .optional(),
  plugins: z.array(pluginEntrySchema).default([]),
  pipelines: z.record(z.string(), z.union([z.array(stepRefSchema), pipelineEditSchema])).default({}),
})
let coreShape: ReturnType<typeof buildCoreShape> | undefined

/** The runner's own keys' schemas (built on first use, like every schema: see lazySchema). */
export function coreConfigShape(): ReturnType<typeof buildCoreShape> {
  coreShape ??= buildCoreShape()
  return coreShape
}

export const coreConfigSchema = lazySchema(() => z.object(coreConfigShape()).passthrough())

export type PipelineEdit = z.output<typeof pipelineEditSchema>
export type PluginEntry = z.output<typeof pluginEntrySchema>

/** Formats zod issues as `path: message`, with array indices in brackets (`gate.checks[2].url`). */
export function formatIssues(issues: z.core.$ZodIssue[], prefix: (string | number)[] = []): string[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path]
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map(
        (key) =>
          `${formatPath([...path, key])}: unknown key (check the spelling; 'berth config schema' lists the keys)`,
      )
    }
    if (issue.code === 'invalid_key' && issue.issues.length > 0) {
      // zod says only "Invalid key in record"; the key schema's own message says what is wrong.
      return [`${formatPath(path)}: invalid key: ${issue.issues.map((inner) => inner.message).join('; ')}`]
    }
    return [`${formatPath(path) || '(root)'}: ${issue.message}`]
  })
}

export function formatPath(path: PropertyKey[]): string {
  return path.reduce<string>(
    (acc, part) => (typeof part === 'number' ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)),
    '',
  )
}
