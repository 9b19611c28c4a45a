import { promises, readdirSync, rmSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

/** node:fs/promises, loaded on first use (a command that only reads starts faster, issue 16). */
const fsp = () => promises

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
  const entries = await fsp()
    .readdir(dir, { recursive: true, withFileTypes: true })
    .catch(() => [])
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort()
}

/**
 * The user's home folder: $HOME, else what the OS says (node:os is loaded only then: a command
 * that only reads starts faster without it, issue 16).
 */
export function homeDirectory(): string {
  return process.env.HOME || process.getBuiltinModule('node:os').homedir()
}

/**
 * Keeps the `limit` newest files of a cache folder berth writes (one entry per repository or
 * config, so a machine that has seen many keeps a bounded number); the older ones go. Errors are
 * ignored: a cache is never worth failing a command for.
 */
export function keepNewest(dir: string, limit: number): void {
  try {
    const names = readdirSync(dir)
    if (names.length <= limit) return
    const files = names.flatMap((name) => {
      try {
        return [{ name, mtime: statSync(join(dir, name)).mtimeMs }]
      } catch {
        return []
      }
    })
    files.sort((a, b) => b.mtime - a.mtime)
    for (const { name } of files.slice(limit)) rmSync(join(dir, name), { force: true })
  } catch {
    // not there, or not ours to tidy
  }
}
