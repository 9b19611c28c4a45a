import { realpath } from 'node:fs/promises'
import { isAbsolute, relative, sep } from 'node:path'

/** True when `child` is strictly inside `folder` (both already real, absolute paths). */
export function isInside(folder: string, child: string): boolean {
  const rel = relative(folder, child)
  return rel.length > 0 && !isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`)
}

/** The real path (symlinks resolved), or null when nothing is there. */
export async function realPathOrNull(path: string): Promise<string | null> {
  try {
    return await realpath(path)
  } catch {
    return null
  }
}
