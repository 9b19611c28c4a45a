import { interpolate, UsageError } from '@berth/contract'
import type { GateCheckConfig, GateConfig } from './schema.js'
import { formatTcpTarget, parseHttpTarget, parseTcpTarget } from './targets.js'

export type CheckKind = 'tcp' | 'http' | 'json'

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

/** A check ready to run: variables replaced, target parsed, kind decided. */
export type GateCheck = TcpCheck | HttpCheck | JsonCheck

/** Turns the parsed `gate` section into runnable checks, replacing `${VAR}` from `env`. */
export function resolveChecks(config: Pick<GateConfig, 'checks'>, env: Readonly<Record<string, string>>): GateCheck[] {
  return config.checks.map((check) => resolveCheck(check, env))
}

export function resolveCheck(check: GateCheckConfig, env: Readonly<Record<string, string>>): GateCheck {
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
  if (check.http === undefined) {
    throw new UsageError(`gate check "${check.name}" has neither tcp nor http`, { hint: 'Give exactly one of them.' })
  }
  const text = substitute(check, 'http', check.http, env)
  const parsed = parseHttpTarget(text)
  if (!parsed.ok) throw badTarget(check, 'http', text, parsed.message)
  const http = { ...base, url: parsed.value, target: parsed.value, status: check.expect?.status }
  const expect = check.expect
  if (expect && (expect.minItems !== undefined || expect.path !== undefined || expect.equals !== undefined)) {
    return { ...http, kind: 'json', path: expect.path, minItems: expect.minItems, equals: expect.equals }
  }
  return { ...http, kind: 'http' }
}

function substitute(
  check: GateCheckConfig,
  field: 'tcp' | 'http',
  text: string,
  env: Readonly<Record<string, string>>,
): string {
  const result = interpolate(text, (name) => (Object.hasOwn(env, name) ? env[name] : undefined))
  if (result.ok) return result.value
  throw new UsageError(`gate check "${check.name}": variable ${result.missing} in ${field} "${text}" is not set`, {
    hint: `Set ${result.missing} in the instance's .env.sandbox (usually through the ports section of the berth config) or fix the check.`,
    details: { check: check.name, variable: result.missing },
  })
}

function badTarget(check: GateCheckConfig, field: 'tcp' | 'http', text: string, message: string): UsageError {
  const written = String(check[field])
  const resolved = written === text ? '' : ` (resolved from "${written}")`
  return new UsageError(`gate check "${check.name}": ${field} ${message}${resolved}`, {
    hint: 'Fix the check or the variable it uses in .env.sandbox.',
    details: { check: check.name, [field]: text },
  })
}
