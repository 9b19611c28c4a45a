import { ConfigError, lazySchema } from '@berth/contract'
import * as z from 'zod'

/** What an environment variable set from a secret may be called. */
export const SECRET_ENV_NAME = /^[A-Z_][A-Z0-9_]*$/

export const SECRET_PROVIDERS = ['1password', 'env-file', 'none'] as const
export type SecretProvider = (typeof SECRET_PROVIDERS)[number]

const envNameMessage = 'must be an environment variable name: A-Z, 0-9 and _, not starting with a digit'

const envName = lazySchema(() =>
  z.string().regex(SECRET_ENV_NAME, { error: (issue) => `${JSON.stringify(issue.input)} ${envNameMessage}` }),
)

/**
 * The `secrets` config section. Users write the lenient form (everything optional, numbers allowed
 * as default values); code reads the resolved form with every default filled in.
 */
export const secretsConfigSchema = lazySchema(() =>
  z
    .object({
      provider: z.enum(SECRET_PROVIDERS).default('none'),
      /** 1Password item name or id (`op item get <item>`). */
      item: z.string().min(1).optional(),
      vault: z.string().min(1).optional(),
      account: z.string().min(1).optional(),
      /** env-file provider: a `KEY=value` file outside the repository; `~` is expanded. */
      file: z.string().min(1).optional(),
      /** 1Password field label (or id) — or env-file key — -> environment variable. */
      fields: z.record(z.string().min(1), envName).default({}),
      /** Insecure values used when the provider cannot supply a variable. */
      defaults: z
        .record(envName, z.union([z.string(), z.number().transform(String), z.boolean().transform(String)]), {
          error: (issue) =>
            issue.code === 'invalid_key' ? `${JSON.stringify(issue.input)} ${envNameMessage}` : undefined,
        })
        .default({}),
      /** Seconds each `op` call may take before it is killed. */
      timeout: z.number().positive().max(600).default(15),
      /** 1Password item used instead of `item` for the local-prod instance. */
      localProdItem: z.string().min(1).optional(),
    })
    .strict()
    .superRefine((config, ctx) => {
      const mappedFrom = new Map<string, string>()
      for (const [field, variable] of Object.entries(config.fields)) {
        const earlier = mappedFrom.get(variable)
        if (earlier !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: ['fields', field],
            message: `${variable} is already mapped from field ${JSON.stringify(earlier)}`,
          })
        }
        mappedFrom.set(variable, field)
      }
      if (config.provider === '1password' && config.item === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['item'],
          message: "provider '1password' needs the 1Password item name or id",
        })
      }
      if (config.provider === 'env-file' && config.file === undefined) {
        ctx.addIssue({ code: 'custom', path: ['file'], message: "provider 'env-file' needs the path of the env file" })
      }
    })
    .prefault({}),
)

/** The resolved section, as steps read it. */
export type SecretsConfig = z.output<typeof secretsConfigSchema>
/** The section as users write it. */
export type SecretsConfigInput = z.input<typeof secretsConfigSchema>

/**
 * Validates a user's `secrets` section on its own (the runner normally does this for every
 * section). Throws a {@link ConfigError} listing every problem as `secrets.<path>: message`.
 */
export function parseSecretsConfig(input: unknown, section = 'secrets'): SecretsConfig {
  const result = secretsConfigSchema.safeParse(input)
  if (result.success) return result.data
  const problems = result.error.issues.map(
    (issue) => `${[section, ...issue.path.map(String)].join('.')}: ${issue.message}`,
  )
  throw new ConfigError(`invalid ${section} config: ${problems.join('; ')}`, problems, {
    hint: 'fix the listed entries of the secrets section in your berth config',
  })
}
