/**
 * Compose's variable interpolation, so that lint judges the value compose will use rather than the
 * text: `$VAR`, `${VAR}`, `${VAR:-default}` / `${VAR-default}`, `${VAR:?error}` / `${VAR?error}`,
 * `${VAR:+replacement}` / `${VAR+replacement}`, `$$` for a literal `$`, and defaults that hold
 * variables themselves (`${A:-${B}}`, as Compose v2 allows).
 */

/** The variables compose resolves a file with: name -> value (undefined = unset). */
export type VariableValues = Record<string, string | undefined>

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/

/** The value compose gives `text` with these variables (an unset `${X:?…}` gives ''). */
export function interpolate(text: string, values: VariableValues): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string
    if (char !== '$') {
      out += char
      continue
    }
    const next = text[i + 1]
    if (next === '$') {
      out += '$'
      i++
      continue
    }
    if (next === '{') {
      const end = closingBrace(text, i + 2)
      if (end < 0) {
        out += text.slice(i)
        break
      }
      out += expandBraced(text.slice(i + 2, end), values)
      i = end
      continue
    }
    const name = NAME.exec(text.slice(i + 1))?.[0]
    if (!name) {
      out += char
      continue
    }
    out += values[name] ?? ''
    i += name.length
  }
  return out
}

/** The names of every variable `text` refers to (defaults included). */
export function referencedVariables(text: string): string[] {
  const names = new Set<string>()
  for (const match of text.matchAll(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))/g)) {
    const before = text.slice(0, match.index)
    // `$$VAR` is a literal `$VAR`: an odd run of `$` before the name means this one is escaped.
    if ((/\$*$/.exec(before)?.[0].length ?? 0) % 2 === 1) continue
    names.add((match[1] ?? match[2]) as string)
  }
  return [...names]
}

export interface InstanceVariance {
  /** What compose sees for variables that are the same for every instance (process env, `.env`). */
  values: VariableValues
  /** Variables whose value differs per instance: identity, slot, the port layout. */
  instanceVariables: readonly string[]
}

/**
 * `text` resolved as two different instances would see it: each per-instance variable gets a
 * different value in each, every other variable its shared value. Equal results mean the value is
 * the same for every instance (a fixed name, a fixed port) whatever the text looks like.
 */
export function resolveForTwoInstances(text: string, variance: InstanceVariance): [string, string] {
  const one: VariableValues = { ...variance.values }
  const two: VariableValues = { ...variance.values }
  for (const [index, name] of variance.instanceVariables.entries()) {
    one[name] = `4${String(index).padStart(3, '0')}1`
    two[name] = `4${String(index).padStart(3, '0')}2`
  }
  return [interpolate(text, one), interpolate(text, two)]
}

/** True when instances resolve `text` to different values. */
export function variesPerInstance(text: string, variance: InstanceVariance): boolean {
  const [one, two] = resolveForTwoInstances(text, variance)
  return one !== two
}

function expandBraced(body: string, values: VariableValues): string {
  const name = NAME.exec(body)?.[0]
  if (!name) return ''
  const rest = body.slice(name.length)
  const value = values[name]
  const set = value !== undefined
  const nonEmpty = set && value !== ''
  const operator = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0]
  if (!operator) return value ?? ''
  const argument = interpolate(rest.slice(operator.length), values)
  switch (operator) {
    case ':-':
      return nonEmpty ? (value as string) : argument
    case '-':
      return set ? (value as string) : argument
    case ':+':
      return nonEmpty ? argument : ''
    case '+':
      return set ? argument : ''
    default:
      // `:?` / `?`: compose refuses to start without the variable; its value when set.
      return value ?? ''
  }
}

/** Index of the `}` closing a `${` whose body starts at `from`, counting nested `${…}`. */
function closingBrace(text: string, from: number): number {
  let depth = 1
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '{') {
      depth++
      i++
    } else if (text[i] === '}') {
      depth--
      if (depth === 0) return i
    }
  }
  return -1
}
