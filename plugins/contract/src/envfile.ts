import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { UsageError } from './errors.js'

/** Variable names berth writes and accepts in `.env.sandbox`. */
export const ENV_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Parses `KEY=value` lines as compose's `--env-file` and POSIX `source` both read them:
 * blank lines and `#` comments are skipped; values are taken verbatim (no quotes, no expansion).
 * A line that is not of that shape is an error naming the file and line, never silently dropped.
 */
export function parseEnvFile(text: string, file = '.env.sandbox'): Record<string, string> {
  const values: Record<string, string> = {}
  const lines = text.split('\n')
  for (const [index, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '')
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue
    const eq = line.indexOf('=')
    const key = eq > 0 ? line.slice(0, eq).trim() : ''
    if (!ENV_KEY_PATTERN.test(key)) {
      // Quote only what precedes '=': the rest may be a secret (env-file secrets use this parser).
      const shown = JSON.stringify((eq >= 0 ? line.slice(0, eq) : line).slice(0, 40))
      throw new UsageError(`${file}:${index + 1}: expected KEY=value, the part before '=' is ${shown}`, {
        hint: `fix or delete that line; regenerate the file with 'berth doctor --fix'`,
      })
    }
    values[key] = line.slice(eq + 1)
  }
  return values
}

/**
 * Serialises values into `KEY=value` lines. Refuses values that `source` would execute or that
 * would break the line format (newlines, `$`, backticks, quotes…), so the file stays inert.
 */
export function formatEnvFile(values: Record<string, string | number>, header?: string): string {
  const lines: string[] = []
  if (header) for (const line of header.split('\n')) lines.push(`# ${line}`)
  for (const [key, value] of Object.entries(values)) {
    const text = String(value)
    if (!ENV_KEY_PATTERN.test(key)) throw new UsageError(`invalid environment variable name ${JSON.stringify(key)}`)
    if (!/^[A-Za-z0-9_./:@%+,=-]*$/.test(text)) {
      throw new UsageError(
        `value of ${key} contains characters not allowed in .env.sandbox: ${JSON.stringify(text.slice(0, 60))}`,
        {
          hint: 'use only letters, digits and ./:@%+,=_- in names, paths and ports',
        },
      )
    }
    lines.push(`${key}=${text}`)
  }
  return `${lines.join('\n')}\n`
}

/**
 * The nearest `.env.sandbox` from `dir` upward, or undefined. Detection reads this file, never
 * the process environment, so two terminals never see each other's instance.
 */
export function findEnvFile(dir: string): string | undefined {
  let current = resolve(dir)
  for (;;) {
    const candidate = join(current, '.env.sandbox')
    if (existsSync(candidate)) return candidate
    const parent = dirname(current)
    if (parent === current) return undefined
    current = parent
  }
}
