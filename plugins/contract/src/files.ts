import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'

/**
 * `20261122T185512Z` for a date (UTC, whole seconds): sortable, and valid in a file name on every
 * platform. The name of every evidence bundle and test-artifacts folder.
 */
export function utcStamp(date = new Date()): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '')
}

/** Regular files below `dir`, relative to it, sorted; symlinks are not followed; [] when it is missing. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}
