import { importExternal } from '@berth/contract'
import { withAttemptLimit } from './attempt.js'
import type { PostgresCheck } from './checks.js'
import { ProbeError } from './probe-error.js'
import type { AttemptOptions } from './probes.js'

/** What the gate tells a user whose kept volume refuses the instance's password. */
export interface PostgresProbeOptions extends AttemptOptions {
  /** The command that resets the instance's data volumes, e.g. `berth sandbox down --volumes && berth sandbox up`. */
  volumeResetCommand?: string | undefined
}

/** The SQLSTATE codes the gate explains; everything else is retried until the deadline. */
const AUTH_FAILED = new Set(['28P01', '28000'])
const NO_DATABASE = '3D000'

/**
 * Resolves when PostgreSQL accepts a login with the check's credentials and answers `SELECT 1`:
 * a real startup and authentication (SCRAM, md5 or trust, whatever the server asks for), not
 * merely an open port — a database accepts TCP seconds before it accepts logins. The `pg` client
 * is loaded only when a gate has a postgres check.
 */
export function probePostgres(check: PostgresCheck, options: PostgresProbeOptions): Promise<void> {
  return withAttemptLimit(options.signal, options.limitMs, `no login within ${options.limitMs} ms`, async (signal) => {
    const { default: pg } = await importExternal('pg', () => import('pg'))
    const client = new pg.Client({
      host: check.host.replace(/^\[(.*)\]$/, '$1'),
      port: check.port,
      user: check.user,
      database: check.database,
      // An empty string, not undefined: pg would otherwise take PGPASSWORD from berth's environment.
      password: check.password ?? '',
      ssl: false,
      application_name: 'berth-gate',
      connectionTimeoutMillis: options.limitMs,
    })
    // After a failed attempt the socket may still emit; the attempt's outcome is already decided.
    client.on('error', () => {})
    const abort = (): void => {
      ;(client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy()
    }
    signal.addEventListener('abort', abort, { once: true })
    try {
      await client.connect()
      await client.query('SELECT 1')
    } catch (error) {
      if (signal.aborted) throw signal.reason
      throw explain(error, check, options)
    } finally {
      signal.removeEventListener('abort', abort)
      client.end().catch(() => {})
    }
  })
}

function explain(error: unknown, check: PostgresCheck, options: PostgresProbeOptions): unknown {
  const code = (error as { code?: unknown }).code
  const message = error instanceof Error ? error.message : String(error)
  if (typeof code === 'string' && AUTH_FAILED.has(code)) {
    return new ProbeError(
      `authentication failed: ${message} (SQLSTATE ${code}). PostgreSQL sets its password only when the data volume is created, so a volume kept from an earlier start still holds the old password`,
      {
        permanent: true,
        hint: `reset the instance's data volume (this deletes its data): ${options.volumeResetCommand ?? 'remove the volume and start again'}`,
      },
    )
  }
  if (code === NO_DATABASE) {
    return new ProbeError(`${message} (SQLSTATE ${code})`, {
      permanent: true,
      hint: `the image creates POSTGRES_DB only on a fresh volume: create database "${check.database}" (a migration hook), reset the volume (${options.volumeResetCommand ?? 'remove it and start again'}), or fix postgres.database`,
    })
  }
  if (/client password must be a string/i.test(message)) {
    return new ProbeError('the server asks for a password and the check has none', {
      permanent: true,
      hint: 'add postgres.password to the check, e.g. "${DB_PASSWORD}" (a secret of the instance)',
    })
  }
  return error
}
