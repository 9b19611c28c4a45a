import { ConfigError, lazySchema, referenceProblems, startsWithReference } from '@berth/contract'
import * as z from 'zod'
import { findDependencyProblems } from './dependencies.js'
import { parseHttpTarget, parseTcpTarget } from './targets.js'

export const DEFAULT_GATE_TIMEOUT_SECONDS = 120

/** What an HTTP check expects. Any of `minItems`, `path`, `equals` makes it a json check. */
export const gateExpectSchema = lazySchema(() =>
  z.strictObject({
    /** Accepted statuses; default 200-399. */
    status: z.array(z.number().int().min(100).max(599)).min(1).optional(),
    /**
     * The value at `path` (or the whole document) is an array with at least this many items: a
     * number, or `"${VAR}"` read from the instance's environment when the gate runs (e.g. a slot
     * profile's `WORKERS`, so the check expects what the profile runs).
     */
    minItems: z
      .union([
        z.number().int().min(0),
        z.string().regex(/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/, 'must be a number or one variable, e.g. "${WORKERS}"'),
      ])
      .optional(),
    /** Dot path into the JSON body, e.g. `data.workers` or `items.0.state`. */
    path: z.string().min(1).optional(),
    /** The value at `path` deep-equals this. */
    equals: z.unknown().optional(),
  }),
)

/** `"${VAR}"`, `"host:port"` (loopback only) or a port number. */
const tcpTargetSchema = lazySchema(() => z.union([z.number().int().min(1).max(65535), z.string().min(1)]))

/**
 * A `postgres` check: a real startup and authentication (then `SELECT 1`) with the instance's
 * credentials. `user`, `password` and `database` may name secrets (`${DB_PASSWORD}`): they are
 * filled from the instance's environment and its secrets, never written anywhere.
 */
export const postgresCheckSchema = lazySchema(() =>
  z.strictObject({
    /** Where PostgreSQL listens: a port, `host:port` (loopback only) or `${VAR}`. */
    target: tcpTargetSchema,
    /** Role to log in as (default `postgres`). */
    user: z.string().min(1).default('postgres'),
    /** The role's password (usually `${SECRET_VAR}`); absent for `trust` authentication. */
    password: z.string().optional(),
    /** Database to connect to (default: the user's name, as psql does). */
    database: z.string().min(1).optional(),
  }),
)

/** A `redis` check: `PING` answered by `PONG`, after `AUTH` when a password is given. */
export const redisCheckSchema = lazySchema(() =>
  z.strictObject({
    /** Where Redis listens: a port, `host:port` (loopback only) or `${VAR}`. */
    target: tcpTargetSchema,
    /** ACL user for `AUTH user password` (Redis 6+); absent: `AUTH password` (the default user). */
    user: z.string().min(1).optional(),
    /** The password (usually `${SECRET_VAR}`); absent: no AUTH. */
    password: z.string().optional(),
  }),
)

/** The check kinds a user picks with one key each. */
export const CHECK_KEYS = ['tcp', 'http', 'postgres', 'redis', 'healthy'] as const

/** One check as users write it. */
export const gateCheckSchema = lazySchema(() =>
  z
    .strictObject({
      name: z.string().min(1),
      /** `"${VAR}"`, `"host:port"` (loopback only) or a port number. */
      tcp: tcpTargetSchema.optional(),
      /** An http(s) URL to a loopback host; may contain `${VAR}`. */
      http: z.string().min(1).optional(),
      /** A PostgreSQL server that must accept a login: a target alone, or with credentials. */
      postgres: z.union([tcpTargetSchema, postgresCheckSchema]).optional(),
      /** A Redis server that must answer PING (after AUTH with a password). */
      redis: z.union([tcpTargetSchema, redisCheckSchema]).optional(),
      /** A compose service whose containers must all be `healthy` by their own healthcheck (engine API). */
      healthy: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a compose service name')
        .optional(),
      expect: gateExpectSchema.optional(),
      /** Checks that must pass before this one starts; if one fails, this one is skipped. */
      after: z.array(z.string().min(1)).default([]),
      /** Compose service whose log tail is shown when this check fails. */
      service: z.string().min(1).optional(),
      /** Seconds this check may poll once it starts; never beyond the gate's deadline. */
      timeout: z.number().positive().optional(),
    })
    .superRefine((check, ctx) => {
      const kinds = CHECK_KEYS.filter((kind) => check[kind] !== undefined)
      if (kinds.length !== 1) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message:
            kinds.length === 0
              ? `give exactly one of ${CHECK_KEYS.join(', ')}`
              : `give exactly one of ${CHECK_KEYS.join(', ')}, not ${kinds.join(' and ')}`,
        })
      }
      if (check.http === undefined && check.expect !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['expect'], message: 'expect applies to http checks only' })
      }
      for (const message of targetProblems(check.tcp, 'tcp')) ctx.addIssue({ code: 'custom', path: ['tcp'], message })
      for (const message of targetProblems(check.http, 'http'))
        ctx.addIssue({ code: 'custom', path: ['http'], message })
      for (const kind of ['postgres', 'redis'] as const) {
        const value = check[kind]
        const target = typeof value === 'object' ? value.target : value
        const path = typeof value === 'object' ? [kind, 'target'] : [kind]
        for (const message of targetProblems(target, 'tcp')) ctx.addIssue({ code: 'custom', path, message })
        if (typeof value === 'object') {
          for (const field of ['user', 'password', 'database'] as const) {
            const text = (value as Record<string, unknown>)[field]
            if (typeof text !== 'string') continue
            for (const message of referenceProblems(text))
              ctx.addIssue({ code: 'custom', path: [kind, field], message })
          }
        }
      }
    }),
)

/** The `gate` config section. Missing section = `{ timeout: 120, checks: [] }`. */
export const gateConfigSchema = lazySchema(() =>
  z
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
    .prefault({}),
)

/** The `gate` section as users write it. */
export type GateConfigInput = z.input<typeof gateConfigSchema>
/** The `gate` section with defaults filled in. */
export type GateConfig = z.output<typeof gateConfigSchema>
export type GateCheckInput = z.input<typeof gateCheckSchema>
export type GateCheckConfig = z.output<typeof gateCheckSchema>
export type PostgresCheckConfig = z.output<typeof postgresCheckSchema>
export type RedisCheckConfig = z.output<typeof redisCheckSchema>

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
