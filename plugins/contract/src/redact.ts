/** What a secret is replaced with. */
export const REDACTED = '***'

/** Pieces of a multi-line secret shorter than this are not redacted on their own (see {@link secretForms}). */
export const MIN_LINE_LENGTH = 4

/**
 * Holds secret values for one berth process and replaces every occurrence with `***` in text
 * before it reaches a terminal, a log file, an evidence bundle or `--json`.
 *
 * A service rarely prints a secret exactly as it was given: a JSON logger escapes its quotes and
 * newlines, a URL carries it percent-encoded, a multi-line value (a key, a certificate) arrives
 * one line at a time through a line-by-line stream. Each value is therefore registered in all
 * those forms ({@link secretForms}), and one pass replaces the longest match first.
 */
export class Redactor {
  readonly #values = new Set<string>()
  readonly #forms = new Set<string>()
  #pattern: RegExp | null | undefined

  /** Registers a secret value. Whole values shorter than 4 characters are still redacted. */
  add(value: string | undefined): void {
    if (!value || this.#values.has(value)) return
    this.#values.add(value)
    for (const form of secretForms(value)) this.#forms.add(form)
    this.#pattern = undefined
  }

  /** How many distinct secret values are registered. */
  get size(): number {
    return this.#values.size
  }

  redact(text: string): string {
    const pattern = this.#compiled()
    return pattern ? text.replace(pattern, REDACTED) : text
  }

  /**
   * Deep-copies a JSON-like value with every string (and object key) redacted. Walks the value
   * rather than its JSON text, so a secret that happens to look like JSON syntax (`":"`, `null`)
   * can never break the document's structure.
   */
  redactValue<T>(value: T): T {
    if (this.#values.size === 0) return value
    return this.#walk(value, 0) as T
  }

  #walk(value: unknown, depth: number): unknown {
    if (typeof value === 'string') return this.redact(value)
    if (value === null || typeof value !== 'object' || depth > 64) return value
    if (Array.isArray(value)) return value.map((item) => this.#walk(item, depth + 1))
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') {
      return this.#walk((value as { toJSON(): unknown }).toJSON(), depth + 1)
    }
    const copy: Record<string, unknown> = {}
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) copy[this.redact(key)] = this.#walk(item, depth + 1)
    }
    return copy
  }

  #compiled(): RegExp | null {
    if (this.#pattern !== undefined) return this.#pattern
    // Longest first, so a secret that contains another (or its escaped form) is replaced whole.
    const forms = [...this.#forms].sort((a, b) => b.length - a.length)
    this.#pattern = forms.length === 0 ? null : new RegExp(forms.map(escapeRegExp).join('|'), 'g')
    return this.#pattern
  }
}

/**
 * Every form in which `value` may show up in output: the value itself; as it appears inside a
 * JSON string (escaped quotes, backslashes and control characters; also with non-ASCII as
 * `\uXXXX` and/or `/` as `\/`, as Python and PHP write it; and escaped twice, a JSON log line inside
 * a JSON document); percent-encoded (a password in a database URL); and, for a multi-line value,
 * each of its lines of at least {@link MIN_LINE_LENGTH} characters in the same forms, since
 * output is handled line by line.
 */
export function secretForms(value: string): string[] {
  const forms = new Set<string>()
  const addForms = (text: string) => {
    forms.add(text)
    const json = jsonInner(text)
    forms.add(json)
    const ascii = json.replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)
    forms.add(ascii)
    forms.add(json.replace(/\//g, '\\/'))
    forms.add(ascii.replace(/\//g, '\\/'))
    forms.add(jsonInner(json))
    try {
      forms.add(encodeURIComponent(text))
    } catch {
      // a lone surrogate cannot be percent-encoded; nothing would print it that way either
    }
  }
  addForms(value)
  const lines = value.split(/\r?\n|\r/)
  if (lines.length > 1) {
    for (const line of lines) if (line.trim().length >= MIN_LINE_LENGTH) addForms(line)
  }
  forms.delete('')
  return [...forms]
}

/** The text between the quotes of `JSON.stringify(text)`. */
function jsonInner(text: string): string {
  return JSON.stringify(text).slice(1, -1)
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
