/** Small text helpers for plugins that render their outputs for humans. */

import { fstatSync } from 'node:fs'

const terminals = new Map<number, boolean>()

/**
 * Whether a file descriptor (1, 2) is a terminal — without creating `process.stdout`/`stderr`,
 * which loads node:net and the stream modules (issue 16: a pipe or a file answers from `fstat`;
 * only a character device is asked through node:tty).
 */
export function isTerminal(fd: number): boolean {
  let known = terminals.get(fd)
  if (known === undefined) {
    try {
      known = fstatSync(fd).isCharacterDevice() && process.getBuiltinModule('node:tty').isatty(fd)
    } catch {
      known = false
    }
    terminals.set(fd, known)
  }
  return known
}

const useColour = () => isTerminal(2) && !process.env.NO_COLOR
const paint = (code: number, text: string) => (useColour() ? `\u001b[${code}m${text}\u001b[0m` : text)

/** ANSI colours, only on a terminal and never with `NO_COLOR`. */
export const colour = {
  green: (t: string) => paint(32, t),
  red: (t: string) => paint(31, t),
  yellow: (t: string) => paint(33, t),
  dim: (t: string) => paint(2, t),
  bold: (t: string) => paint(1, t),
}

/** Rows as aligned columns (two spaces apart); the first row is usually the heading. */
export function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? []
  return rows.map((row) =>
    row
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd(),
  )
}

/**
 * A 53-bit hash of a text (cyrb53), as `cyrb53:<hex>`: to tell berth's own unchanged output from
 * anything else, or to name a cache entry. Not a defence against anyone forging it.
 */
export function fingerprint(text: string): string {
  let h1 = 0xdeadbeef
  let h2 = 0x41c6ce57
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    h1 = Math.imul(h1 ^ c, 2654435761)
    h2 = Math.imul(h2 ^ c, 1597334677)
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return `cyrb53:${(4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16)}`
}
