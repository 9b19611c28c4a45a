/** Small text helpers for plugins that render their outputs for humans. */

const useColour = () => Boolean(process.stderr.isTTY) && !process.env.NO_COLOR
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
