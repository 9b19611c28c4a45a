import { ENV_KEY_PATTERN, lazySchema } from '@berth/contract'
import * as z from 'zod'

/** A shared folder's name: one path segment, never `.`/`..`, no separators. */
const folderName = lazySchema(() =>
  z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, "must be one folder name: letters, digits, '.', '_', '-' (no '/')")
    .refine((name) => !name.includes('..'), { message: "must not contain '..'" }),
)

const envName = lazySchema(() =>
  z.string().regex(ENV_KEY_PATTERN, 'must be an environment variable name, e.g. KTRDR_DATA_DIR'),
)

/**
 * The `sharedData` config section: folders under `$BERTH_HOME/shared/` that every instance
 * mounts (market data, models…), each named by the `.env.sandbox` variable carrying its host path.
 */
export const sharedDataSchema = lazySchema(() =>
  z
    .strictObject({
      /** Folder name -> variable, e.g. `{ "data": "KTRDR_DATA_DIR", "models": "KTRDR_MODELS_DIR" }`. */
      dirs: z.record(folderName, envName).default({}),
      /** Optional variable carrying `$BERTH_HOME/shared` itself, e.g. `KTRDR_SHARED_DIR`. */
      root: envName.optional(),
    })
    .superRefine((config, issue) => {
      const seen = new Map<string, string>()
      for (const [name, variable] of Object.entries(config.dirs)) {
        const other = seen.get(variable)
        if (other) {
          issue.addIssue({ code: 'custom', path: ['dirs', name], message: `${variable} is already used by "${other}"` })
        }
        seen.set(variable, name)
      }
      if (config.root && seen.has(config.root)) {
        issue.addIssue({
          code: 'custom',
          path: ['root'],
          message: `${config.root} is already used by "${seen.get(config.root)}"`,
        })
      }
    })
    .prefault({}),
)

export type SharedDataInput = z.input<typeof sharedDataSchema>
export type SharedDataConfig = z.output<typeof sharedDataSchema>
