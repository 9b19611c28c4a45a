import { ConfigError, referenceProblems, startsWithReference } from '@berth/contract'
import { z } from 'zod'
import { findDependencyProblems } from './dependencies.js'
import { parseHttpTarget, parseTcpTarget } from './targets.js'

export const DEFAULT_GATE_TIMEOUT_SECONDS = 120

/** What an HTTP check expects. Any of `minItems`, `path`, `equals` makes it a json check. */
export const gateExpectSchema = z.strictObject({
  /** Accepted statuses; default 200-399. */
  status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  /** The value at `path` (or the whole document) is an array with at least this many items. */
  minItems: z.number().int().min(0).optional(),
  /** Dot path into the JSON body, e.g. `data.workers` or `items.0.state`. */
  path: z.string().min(1).optional(),
  /** The value at `path` deep-equals this. */
  equals: z.unknown().optional(),
})

/** One check as users write it. */
export const gateCheckSchema = z
  .strictObject({
    name: z.string().min(1),
    /** `"${VAR}"`, `"host:port"` (loopback only) or a port number. */
    tcp: z.union([z.number().int().min(1).max(65535), z.string().min(1)]).optional(),
    /** An http(s) URL to a loopback host; may contain `${VAR}`. */
    http: z.string().min(1).optional(),
    expect: gateExpectSchema.optional(),
    /** Checks that must pass before this one starts; if one fails, this one is skipped. */
    after: z.array(z.string().min(1)).default([]),
    /** Compose service whose log tail is shown when this check fails. */
    service: z.string().min(1).optional(),
    /** Seconds this check may poll once it starts; never beyond the gate's deadline. */
    timeout: z.number().positive().optional(),
  })
  .superRefine((check, ctx) => {
    const kinds = (['tcp', 'http'] as const).filter((kind) => check[kind] !== undefined)
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: [],
        message: kinds.length === 0 ? 'give exactly one of tcp or http' : 'give exactly one of tcp or http, not both',
      })
    }
    if (check.tcp !== undefined && check.expect !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['expect'], message: 'expect applies to http checks only' })
    }
    for (const message of targetProblems(check.tcp, 'tcp')) ctx.addIssue({ code: 'custom', path: ['tcp'], message })
    for (const message of targetProblems(check.http, 'http')) ctx.addIssue({ code: 'custom', path: ['http'], message })
  })

/** The `gate` config section. Missing section = `{ timeout: 120, checks: [] }`. */
export const gateConfigSchema = z
  .strictObject({
    /** Overall deadline in seconds; `--timeout` overrides it. */
    timeout: z.number().positive().default(DEFAULT_GATE_TIMEOUT_SECONDS),
    checks: z.array(gateCheckSchema).default([]),
  })
  .superRefine((config, ctx) => {
    if (!Array.isArray(config.checks)) return
    for (const problem of findDependencyProblems(config.checks)) {
      ctx.addIssue({ code: 'custom', path: problem.path, message: problem.message })
    }
  })
  .prefault({})

/** The `gate` section as users write it. */
export type GateConfigInput = z.input<typeof gateConfigSchema>
/** The `gate` section with defaults filled in. */
export type GateConfig = z.output<typeof gateConfigSchema>
export type GateCheckInput = z.input<typeof gateCheckSchema>
export type GateCheckConfig = z.output<typeof gateCheckSchema>

/** Parses the `gate` section; throws ConfigError listing every problem as `gate.path: message`. */
export function parseGateConfig(input: unknown, section = 'gate'): GateConfig {
  const result = gateConfigSchema.safeParse(input)
  if (result.success) return result.data
  throw configError(result.error, section)
}

export function configError(error: z.ZodError, prefix: string): ConfigError {
  const problems = error.issues.map((issue) => `${formatIssuePath(prefix, issue.path)}: ${issue.message}`)
  return new ConfigError(`invalid ${prefix} config:\n  ${problems.join('\n  ')}`, problems, {
    hint: 'Fix the gate section of the berth config (see the @berth/gate README).',
  })
}

/** `gate` + `['checks', 2, 'after', 0]` -> `gate.checks[2].after[0]`. */
export function formatIssuePath(prefix: string, path: readonly PropertyKey[]): string {
  let text = prefix
  for (const key of path) text += typeof key === 'number' ? `[${key}]` : `${text ? '.' : ''}${String(key)}`
  return text
}

/**
 * Checks a target as far as it can be checked before `${VAR}` values are known: each reference is
 * replaced by `1` (a valid port), so the host, scheme and shape are checked now and the rest later.
 */
function targetProblems(value: string | number | undefined, kind: 'tcp' | 'http'): string[] {
  if (typeof value !== 'string') return []
  const references = referenceProblems(value)
  if (references.length > 0 || startsWithReference(value)) return references
  const probe = value.replace(/\$\{[^}]*\}/g, '1')
  const parsed = kind === 'tcp' ? parseTcpTarget(probe) : parseHttpTarget(probe)
  return parsed.ok ? [] : [parsed.message.replace(`"${probe}"`, `"${value}"`)]
}
