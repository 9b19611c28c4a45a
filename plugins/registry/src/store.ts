import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { OperationError } from '@berth/contract'
import { withLock } from './lock.js'
import { REGISTRY_VERSION, type Registry, registrySchema } from './schema.js'

export function registryPaths(home: string) {
  return { file: join(home, 'registry.json'), lock: join(home, 'registry.lock') }
}

/**
 * Reads the registry. A missing file is an empty registry (first use); an unreadable, truncated
 * or invalid one stops berth with exit 1 and is left byte-for-byte as it is.
 */
export async function readRegistry(home: string): Promise<Registry> {
  const { file } = registryPaths(home)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: REGISTRY_VERSION, instances: [] }
    throw corrupt(file, (error as Error).message, error)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw corrupt(file, `not valid JSON (${(error as Error).message})`, error)
  }
  const parsed = registrySchema.safeParse(json)
  if (!parsed.success) {
    const first = parsed.error.issues[0]
    throw corrupt(
      file,
      `does not match registry version ${REGISTRY_VERSION}: ${first?.path.join('.')}: ${first?.message}`,
    )
  }
  return parsed.data
}

function corrupt(file: string, reason: string, cause?: unknown): OperationError {
  return new OperationError(`registry ${file} is unreadable: ${reason}. berth has not changed it.`, {
    code: 'E_REGISTRY_CORRUPT',
    cause,
    hint: `inspect and repair it, or move it aside (mv ${file} ${file}.broken) and re-register each instance with 'berth sandbox init' in its folder`,
  })
}

/** Writes via a temp file, fsync and rename, mode 0600: readers see the old or the new file, never half. */
export async function writeRegistry(home: string, registry: Registry): Promise<void> {
  const { file } = registryPaths(home)
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  const text = `${JSON.stringify(registrySchema.parse(registry), null, 2)}\n`
  try {
    const handle = await open(temp, 'wx', 0o600)
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
    const dir = await open(home, 'r').catch(() => undefined)
    await dir?.sync().catch(() => {})
    await dir?.close()
  } catch (error) {
    await unlink(temp).catch(() => {})
    throw new OperationError(`could not write ${file}: ${(error as Error).message}; the previous registry is intact`, {
      code: 'E_REGISTRY_WRITE',
      cause: error,
      hint: 'free disk space or fix permissions of BERTH_HOME, then run the command again',
    })
  }
}

/**
 * Read-modify-write under the cross-process lock. `change` returns the value to hand back;
 * the registry is written only when `change` mutated it.
 */
export async function updateRegistry<T>(home: string, change: (registry: Registry) => T | Promise<T>): Promise<T> {
  await mkdir(home, { recursive: true, mode: 0o700 })
  return withLock(registryPaths(home).lock, async () => {
    const registry = await readRegistry(home)
    const before = JSON.stringify(registry)
    const result = await change(registry)
    if (JSON.stringify(registry) !== before) await writeRegistry(home, registry)
    return result
  })
}
