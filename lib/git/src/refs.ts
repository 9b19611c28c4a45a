import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { discoverGitDirs } from './discover.js'

const OBJECT_ID = /^[0-9a-f]{40}([0-9a-f]{24})?$/

/**
 * What a branch or remote-tracking ref (`refs/heads/…`, `refs/remotes/…`, `refs/remotes/o/HEAD`)
 * points at, read from the repository's files as git stores them (issue 16: no process where a
 * file read answers): a loose ref file, else `packed-refs`; a symbolic ref is followed.
 *
 * `null` when the ref does not exist; undefined when the files cannot say for sure (reftable
 * storage, an unreadable file, a ref outside refs/heads and refs/remotes) — then ask git.
 */
export function readRef(checkout: string, ref: string): { target: string; symbolic: string | null } | null | undefined {
  if (!/^refs\/(heads|remotes)\/[^\0]+$/.test(ref) || ref.includes('..')) return undefined
  const dirs = discoverGitDirs(checkout)
  if (!dirs) return undefined
  let config: string
  try {
    config = readFileSync(join(dirs.commonDir, 'config'), 'utf8')
  } catch {
    return undefined
  }
  if (/^\s*refstorage\s*=/im.test(config)) return undefined
  let packed: Map<string, string> | undefined
  let name = ref
  let symbolic: string | null = null
  for (let depth = 0; depth < 5; depth++) {
    let loose: string | undefined
    try {
      loose = readFileSync(join(dirs.commonDir, name), 'utf8').trim()
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code !== 'ENOENT' && code !== 'ENOTDIR' && code !== 'EISDIR') return undefined
    }
    if (loose !== undefined) {
      if (OBJECT_ID.test(loose)) return { target: loose, symbolic }
      const next = /^ref: (refs\/(heads|remotes)\/\S+)$/.exec(loose)?.[1]
      if (!next) return undefined
      symbolic = next
      name = next
      continue
    }
    packed ??= readPackedRefs(dirs.commonDir)
    if (!packed) return undefined
    const id = packed.get(name)
    return id ? { target: id, symbolic } : null
  }
  return undefined
}

/** `packed-refs` as ref -> object id; an empty map when there is none, undefined when unreadable. */
function readPackedRefs(commonDir: string): Map<string, string> | undefined {
  let text: string
  try {
    text = readFileSync(join(commonDir, 'packed-refs'), 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? new Map() : undefined
  }
  const refs = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('^')) continue
    const [id, name] = line.split(' ')
    if (!id || !name || !OBJECT_ID.test(id)) return undefined
    refs.set(name, id)
  }
  return refs
}

/**
 * The remotes the repository's own config names (`[remote "x"]` sections); undefined when it
 * cannot be read plainly (then ask `git remote`, which also reads the user's config).
 */
export function configRemotes(checkout: string): string[] | undefined {
  const dirs = discoverGitDirs(checkout)
  if (!dirs) return undefined
  let text: string
  try {
    text = readFileSync(join(dirs.commonDir, 'config'), 'utf8')
  } catch {
    return undefined
  }
  const remotes: string[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line.startsWith('[')) continue
    const section = /^\[\s*remote\s+"([^"\\]*)"\s*\]$/i.exec(line)
    if (section) {
      if (!remotes.includes(section[1]!)) remotes.push(section[1]!)
    } else if (!/^\[[A-Za-z0-9.-]+(\s+"[^"\\]*")?\]$/.test(line)) return undefined
  }
  return remotes
}
