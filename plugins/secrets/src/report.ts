import { lazySchema } from '@berth/contract'
import * as z from 'zod'
import { SECRET_PROVIDERS } from './schema.js'

export const SECRET_SOURCES = ['op', 'env-file', 'defaults', 'none'] as const
/** Where the values came from: 1Password, the env file, the insecure defaults (fallback), or no provider. */
export type SecretsSource = (typeof SECRET_SOURCES)[number]

/**
 * `ctx.output.secrets`, part of the `--json` document. Names only: no value is ever in it.
 */
export const secretsReportSchema = lazySchema(() =>
  z.object({
    provider: z.enum(SECRET_PROVIDERS),
    source: z.enum(SECRET_SOURCES),
    /** Every variable set into the compose process's environment, sorted. */
    variables: z.array(z.string()),
    /** The subset that holds an insecure default from `secrets.defaults`. */
    defaulted: z.array(z.string()),
    /** Mapped variables that got neither a value nor a default (fallback only). */
    unset: z.array(z.string()),
    /** The 1Password item read (its name, as configured). */
    item: z.string().optional(),
    /** The env file read. */
    file: z.string().optional(),
    /** Why the provider was not used, when `source` is `defaults`. */
    reason: z.string().optional(),
  }),
)

export type SecretsReport = z.output<typeof secretsReportSchema>

/** The report of a load, without its values. */
export function secretsReport(loaded: SecretsReport & { values?: unknown }): SecretsReport {
  const { values: _values, ...report } = loaded
  return secretsReportSchema.parse(report)
}
