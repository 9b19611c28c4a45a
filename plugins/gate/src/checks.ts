import { interpolate, UsageError } from '@berth/contract'
import type { GateCheckConfig, GateConfig } from './schema.js'
import { formatTcpTarget, parseHttpTarget, parseTcpTarget } from './targets.js'

export type CheckKind = 'tcp' | 'http' | 'json' | 'postgres' | 'redis' | 'healthy'

interface CheckBase {
  name: string
  /** Human form of what is probed: `127.0.0.1:5433` or the URL. */
  target: string
  /** Names of checks that must pass first. */
  after: string[]
  /** Compose service whose logs explain a failure. */
  service?: string | undefined
  /** How long this check may poll once started (capped by the gate deadline). */
  timeoutMs?: number | undefined
}

export interface TcpCheck extends CheckBase {
  kind: 'tcp'
  host: string
  port: number
}

export interface HttpCheck extends CheckBase {
  kind: 'http'
  url: string
  /** Accepted statuses; absent means 200-399. */
  status?: number[] | undefined
}

export interface JsonCheck extends CheckBase {
  kind: 'json'
  url: string
  status?: number[] | undefined
  path?: string | undefined
  minItems?: number | undefined
  equals?: unknown
}

/**
 * A PostgreSQL login. `password` is a secret once resolved: it never reaches `target`, reports or
 * messages.
 */
export interface PostgresCheck extends CheckBase {
  kind: 'postgres'
  host: string
  port: number
  user: string
  password?: string | undefined
  database: string
}

/** A Redis PING, after AUTH when `password` is set (a secret once resolved, like postgres'). */
export interface RedisCheck extends CheckBase {
  kind: 'redis'
  host: string
  port: number
  user?: string | undefined
  password?: string | undefined
}

/** Every container of a compose service reported `healthy` by the engine (its own healthcheck). */
export interface HealthyCheck extends CheckBase {
  kind: 'healthy'
  /** The compose project: the instance's `COMPOSE_PROJECT_NAME`. */
  project: string
  /** The compose service whose containers must be healthy. */
  healthy: string
}

/** A check ready to run: variables replaced, target parsed, kind decided. */
export type GateCheck = TcpCheck | HttpCheck | JsonCheck | PostgresCheck | RedisCheck | HealthyCheck

/**
 * Turns the parsed `gate` section into runnable checks. Targets take `${VAR}` from `env` (the
 * instance's `.env.sandbox` values) only; credentials (`user`, `password`, `database`) may also
 * name secrets, taken from `secretEnv`.
 */
export function resolveChecks(
  config: Pick<GateConfig, 'checks'>,
  env: Readonly<Record<string, string>>,
  secretEnv: Readonly<Record<string, string>> = {},
): GateCheck[] {
  return config.checks.map((check) => resolveCheck(check, env, secretEnv))
}

export function resolveCheck(
  check: GateCheckConfig,
  env: Readonly<Record<string, string>>,
  secretEnv: Readonly<Record<string, string>> = {},
): GateCheck {
  const base = {
    name: check.name,
    after: [...check.after],
    service: check.service,
    timeoutMs: check.timeout === undefined ? undefined : Math.round(check.timeout * 1000),
  }
  if (check.tcp !== undefined) {
    const text = substitute(check, 'tcp', String(check.tcp), env)
    const parsed = parseTcpTarget(text)
    if (!parsed.ok) throw badTarget(check, 'tcp', text, parsed.message)
    return { ...base, kind: 'tcp', ...parsed.value, target: formatTcpTarget(parsed.value) }
  }
  if (check.postgres !== undefined) {
    const spec = typeof check.postgres === 'object' ? check.postgres : { target: check.postgres, user: 'postgres' }
    const address = resolveAddress(check, 'postgres', spec.target, env)
    const credentials = { ...env, ...secretEnv }
    const user = substitute(check, 'postgres.user', spec.user, credentials)
    const database =
      spec.database === undefined ? user : substitute(check, 'postgres.database', spec.database, credentials)
    const password =
      spec.password === undefined ? undefined : substitute(check, 'postgres.password', spec.password, credentials)
    return {
      ...base,
      kind: 'postgres',
      ...address,
      user,
      password,
      database,
      target: `postgres://${encodeURIComponent(user)}@${formatTcpTarget(address)}/${encodeURIComponent(database)}`,
    }
  }
  if (check.redis !== undefined) {
    const spec = typeof check.redis === 'object' ? check.redis : { target: check.redis }
    const address = resolveAddress(check, 'redis', spec.target, env)
    const credentials = { ...env, ...secretEnv }
    const user = spec.user === undefined ? undefined : substitute(check, 'redis.user', spec.user, credentials)
    const password =
      spec.password === undefined ? undefined : substitute(check, 'redis.password', spec.password, credentials)
    const who = user ? `${encodeURIComponent(user)}@` : ''
    return { ...base, kind: 'redis', ...address, user, password, target: `redis://${who}${formatTcpTarget(address)}` }
  }
  if (check.healthy !== undefined) {
    const project = env.COMPOSE_PROJECT_NAME ?? env.INSTANCE_ID
    if (!project) {
      throw new UsageError(`gate check "${check.name}": a healthy check needs an instance (COMPOSE_PROJECT_NAME)`, {
        hint: 'run the gate inside a registered instance (its .env.sandbox names the compose project)',
      })
    }
    return {
      ...base,
      service: check.service ?? check.healthy,
      kind: 'healthy',
      project,
      healthy: check.healthy,
      target: `service ${check.healthy}`,
    }
  }
  if (check.http === undefined) {
    throw new UsageError(`gate check "${check.name}" has no tcp, http, postgres, redis or healthy`, {
      hint: 'Give exactly one of them.',
    })
  }
  const text = substitute(check, 'http', check.http, env)
  const parsed = parseHttpTarget(text)
  if (!parsed.ok) throw badTarget(check, 'http', text, parsed.message)
  const http = { ...base, url: parsed.value, target: parsed.value, status: check.expect?.status }
  const expect = check.expect
  if (expect && (expect.minItems !== undefined || expect.path !== undefined || expect.equals !== undefined)) {
    const minItems =
      typeof expect.minItems === 'string'
        ? countOf(check, substitute(check, 'expect.minItems', expect.minItems, env))
        : expect.minItems
    return { ...http, kind: 'json', path: expect.path, minItems, equals: expect.equals }
  }
  return { ...http, kind: 'http' }
}

/** A postgres/redis target: a port or a loopback `host:port`, `${VAR}` from the instance env. */
function resolveAddress(
  check: GateCheckConfig,
  kind: 'postgres' | 'redis',
  target: string | number,
  env: Readonly<Record<string, string>>,
): { host: string; port: number } {
  const field = typeof check[kind] === 'object' ? `${kind}.target` : kind
  const text = substitute(check, field, String(target), env)
  const parsed = parseTcpTarget(text)
  if (!parsed.ok) throw badTarget(check, field, text, parsed.message, String(target))
  return parsed.value
}

/** `expect.minItems` after `${VAR}`: a whole number, else exit 2 naming the check. */
function countOf(check: GateCheckConfig, text: string): number {
  if (/^\d{1,6}$/.test(text.trim())) return Number(text.trim())
  throw new UsageError(`gate check "${check.name}": expect.minItems is "${text}", not a whole number`, {
    hint: "set the variable it names to a count, e.g. WORKERS=4 in the slot profile's env",
    details: { check: check.name },
  })
}

function substitute(
  check: GateCheckConfig,
  field: string,
  text: string,
  env: Readonly<Record<string, string>>,
): string {
  const result = interpolate(text, (name) => (Object.hasOwn(env, name) ? env[name] : undefined))
  if (result.ok) return result.value
  const credential = /\.(user|password|database)$/.test(field)
  // A credential's text may be a secret's name but never its value: show it as written.
  throw new UsageError(`gate check "${check.name}": variable ${result.missing} in ${field} "${text}" is not set`, {
    hint: credential
      ? `Set ${result.missing} in the instance's .env.sandbox or map it from the secrets provider (secrets.fields), or fix the check.`
      : `Set ${result.missing} in the instance's .env.sandbox (usually through the ports section of the berth config) or fix the check.`,
    details: { check: check.name, variable: result.missing },
  })
}

function badTarget(
  check: GateCheckConfig,
  field: string,
  text: string,
  message: string,
  written = String(check[field as 'tcp' | 'http']),
): UsageError {
  const resolved = written === text ? '' : ` (resolved from "${written}")`
  return new UsageError(`gate check "${check.name}": ${field} ${message}${resolved}`, {
    hint: 'Fix the check or the variable it uses in .env.sandbox.',
    details: { check: check.name, [field]: text },
  })
}
