import { isDeepStrictEqual } from 'node:util'

export interface JsonExpectation {
  path?: string | undefined
  minItems?: number | undefined
  equals?: unknown
}

/** Why `document` does not meet the expectation, or null when it does. */
export function jsonExpectationProblem(document: unknown, expectation: JsonExpectation): string | null {
  const label = expectation.path ?? 'the response'
  const value = expectation.path === undefined ? document : valueAtPath(document, expectation.path)
  if (value === undefined) return `${label} is missing`
  if (expectation.minItems !== undefined) {
    if (!Array.isArray(value)) return `${label} is ${typeName(value)}, not an array`
    if (value.length < expectation.minItems) {
      return `${label} has ${value.length} item${value.length === 1 ? '' : 's'}, want at least ${expectation.minItems}`
    }
  }
  if (expectation.equals !== undefined && !isDeepStrictEqual(value, expectation.equals)) {
    return `${label} is ${preview(value)}, want ${preview(expectation.equals)}`
  }
  return null
}

/** `data.workers` or `items.0.state`: object keys, and array indexes as numbers. */
export function valueAtPath(document: unknown, path: string): unknown {
  let current: unknown = document
  for (const key of path.split('.')) {
    if (Array.isArray(current) && /^\d+$/.test(key)) current = current[Number(key)]
    else if (current !== null && typeof current === 'object' && Object.hasOwn(current, key)) {
      current = (current as Record<string, unknown>)[key]
    } else return undefined
  }
  return current
}

export function preview(value: unknown, max = 80): string {
  return truncate(JSON.stringify(value) ?? String(value), max)
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}
