/**
 * `${VAR}` references in config values (gate targets, a plugin's URLs). Values come from the
 * instance's `.env.sandbox` (`ctx.env`), never from the process environment: detection reads the file.
 */
const REFERENCE = /\$\{([^}]*)\}/g
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

export type Interpolated = { ok: true; value: string } | { ok: false; missing: string }

/** Problems with the references themselves: `${}`, `${1X}`, an unclosed `${`. */
export function referenceProblems(text: string): string[] {
  const problems: string[] = []
  for (const match of text.matchAll(REFERENCE)) {
    if (!VARIABLE_NAME.test(match[1]!)) problems.push(`invalid variable reference "${match[0]}"`)
  }
  if (text.replace(REFERENCE, '').includes('${')) problems.push('unclosed "${" in variable reference')
  return problems
}

export function referencedVariables(text: string): string[] {
  return [...text.matchAll(REFERENCE)].map((match) => match[1]!)
}

/** Replaces every `${VAR}`; reports the first variable `lookup` does not know. */
export function interpolate(text: string, lookup: (name: string) => string | undefined): Interpolated {
  for (const name of referencedVariables(text)) {
    if (lookup(name) === undefined) return { ok: false, missing: name }
  }
  return { ok: true, value: text.replace(REFERENCE, (_whole, name: string) => lookup(name)!) }
}

/**
 * True when the value begins with a reference (`"${API_URL}"`, `"${API_URL}workers"`): scheme and
 * host are only known once the variable is, so the value is checked after interpolation.
 */
export function startsWithReference(text: string): boolean {
  return text.trimStart().startsWith('${')
}
