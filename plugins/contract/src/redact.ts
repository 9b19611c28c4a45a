/**
 * Holds secret values for one berth process and replaces every occurrence with `***` in text
 * before it reaches a terminal, a log file or `--json`.
 */
export class Redactor {
  readonly #values = new Set<string>()

  /** Registers a secret value. Values shorter than 4 characters are still redacted. */
  add(value: string | undefined): void {
    if (value && value.length > 0) this.#values.add(value)
  }

  get size(): number {
    return this.#values.size
  }

  redact(text: string): string {
    let out = text
    // Longest first so a secret that contains another is replaced whole.
    for (const value of [...this.#values].sort((a, b) => b.length - a.length)) {
      out = out.split(value).join('***')
    }
    return out
  }

  /** Deep-copies a JSON-like value with every string redacted. */
  redactValue<T>(value: T): T {
    if (this.#values.size === 0) return value
    return JSON.parse(this.redact(JSON.stringify(value))) as T
  }
}
