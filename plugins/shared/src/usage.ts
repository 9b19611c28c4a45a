import { lstat, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** Size and file count of a folder tree. */
export interface FolderUsage {
  exists: boolean
  /** Bytes of the regular files below (symlinks counted as themselves, not followed). */
  bytes: number
  files: number
}

/** Walks `dir` (following it if it is itself a symlink, nothing below). */
export async function folderUsage(dir: string): Promise<FolderUsage> {
  const top = await stat(dir).catch(() => undefined)
  if (!top?.isDirectory()) return { exists: false, bytes: 0, files: 0 }
  const usage: FolderUsage = { exists: true, bytes: 0, files: 0 }
  const pending = [dir]
  while (pending.length > 0) {
    const current = pending.pop()!
    const entries = await readdir(current, { withFileTypes: true }).catch(() => [])
    for (const entry of entries) {
      const path = join(current, entry.name)
      if (entry.isDirectory()) pending.push(path)
      else {
        const info = await lstat(path).catch(() => undefined)
        if (!info) continue
        usage.files++
        usage.bytes += info.isFile() ? info.size : 0
      }
    }
  }
  return usage
}

/** True when `dir` is absent or an empty folder. */
export async function isEmptyOrAbsent(dir: string): Promise<boolean> {
  const entries = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return []
    throw error
  })
  return entries.length === 0
}

/** `1.2 GB`, `340 kB`, `12 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
