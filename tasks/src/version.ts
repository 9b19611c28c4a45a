import { readFileSync } from 'node:fs'

/** The version in berth's package.json: next to `dist/` (tsc output), `dist/bundle/` or `dist/bundle/chunks/` (the bundle). */
export function berthVersion(): string {
  for (const relative of ['../package.json', '../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string
        version: string
      }
      if (pkg.name === 'berth') return pkg.version
    } catch {
      // not at this depth
    }
  }
  return '0.0.0'
}
