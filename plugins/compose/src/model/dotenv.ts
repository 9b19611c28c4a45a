import { readFileSync } from 'node:fs'
import type { VariableValues } from '../lint/interpolate.js'

/**
 * A `.env` or `env_file` as compose reads it: `KEY=value` lines (`export` allowed), quotes
 * removed, `#` comments skipped. Undefined when the file cannot be read.
 */
export function readDotEnvFile(file: string): VariableValues | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  const values: VariableValues = {}
  for (const line of text.split(/\r?\n/)) {
    const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (!match) continue
    const raw = match[2] as string
    const quoted = /^(['"])(.*)\1$/.exec(raw)
    values[match[1] as string] = quoted ? (quoted[2] as string) : raw.replace(/\s+#.*$/, '')
  }
  return values
}
