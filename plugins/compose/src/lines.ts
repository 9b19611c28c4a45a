/**
 * Cuts a stream of text chunks into whole lines, so that a secret split across two chunks is
 * still redacted: redaction runs on complete lines only. A line longer than `maxPending`
 * characters is emitted in pieces rather than held forever.
 */
export class LineSplitter {
  #pending = ''
  readonly #emit: (line: string) => void
  readonly #maxPending: number

  constructor(emit: (line: string) => void, maxPending = 64 * 1024) {
    this.#emit = emit
    this.#maxPending = maxPending
  }

  push(chunk: string | Buffer): void {
    this.#pending += chunk.toString()
    let newline = this.#pending.indexOf('\n')
    while (newline >= 0) {
      this.#emit(this.#pending.slice(0, newline).replace(/\r$/, ''))
      this.#pending = this.#pending.slice(newline + 1)
      newline = this.#pending.indexOf('\n')
    }
    if (this.#pending.length > this.#maxPending) this.flush()
  }

  /** Emits what is left without a trailing newline. */
  flush(): void {
    if (this.#pending !== '') this.#emit(this.#pending)
    this.#pending = ''
  }
}

/** The last `count` non-empty lines of `text`. */
export function tailLines(text: string, count: number): string {
  const lines = text.split('\n').filter((line) => line.trim() !== '')
  return lines.slice(-count).join('\n')
}
