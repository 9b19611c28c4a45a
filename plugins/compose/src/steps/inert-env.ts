import { UsageError } from '@berth/contract'

/** The characters berth itself writes into `.env.sandbox` values (see the contract's formatEnvFile). */
const INERT_VALUE = /^[A-Za-z0-9_./:@%+,=-]*$/

/**
 * Refuses (exit 2) `.env.sandbox` values berth never writes — `$(…)`, backticks, quotes, `;`,
 * spaces, non-ASCII, anything over 4 kB — before compose sees them: the file is meant to be inert
 * for compose's `--env-file` and for `source` alike, so a hand-edited or planted value stops the
 * start instead of reaching compose's interpolation.
 */
export function assertInertEnv(env: Record<string, string>, file = '.env.sandbox'): void {
  for (const [key, value] of Object.entries(env)) {
    if (value.length <= 4096 && INERT_VALUE.test(value)) continue
    const shown =
      value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}… (${value.length} characters)` : JSON.stringify(value)
    throw new UsageError(`${key} in ${file} holds a value berth never writes: ${shown}`, {
      code: 'E_ENV_FILE',
      hint: "delete the file and run 'berth doctor --fix' to write it again from the registry",
      details: { variable: key },
    })
  }
}
