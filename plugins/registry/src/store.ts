import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { lstat, mkdir, open, readlink, realpath, rename, unlink } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fingerprint, OperationError } from '@berth/contract'
import type * as z from 'zod'
import { withLock } from './lock.js'
import type { RegistryUpgrade } from './outputs.js'
import { REGISTRY_VERSION, type Registry, registrySchema, registryV1Schema } from './schema.js'
import { type AssumePorts, upgradeV1 } from './upgrade.js'

export function registryPaths(home: string) {
  return { file: join(home, 'registry.json'), lock: join(home, 'registry.lock') }
}

/** How the store reads a registry written by an older berth. */
export interface StoreOptions {
  /** Ports assumed for an old claim whose `.env.sandbox` cannot tell (the default layout). */
  assumePorts?: AssumePorts | undefined
  /** Called once, under the lock, after an older registry was upgraded and written in place. */
  onUpgrade?: ((upgrade: RegistryUpgrade, file: string) => void) | undefined
}

interface LoadedRegistry {
  registry: Registry
  /** Set when the file is in an older format: `registry` is its upgrade, not yet written. */
  upgrade?: RegistryUpgrade
}

/**
 * Reads the registry. A missing file is an empty registry (first use); an unreadable, truncated
 * or invalid one stops berth with exit 1 and is left byte-for-byte as it is. A registry of an
 * older version is upgraded in place (under the lock) the first time it is read.
 */
export async function readRegistry(home: string, options: StoreOptions = {}): Promise<Registry> {
  const loaded = await loadRegistry(home, options)
  if (!loaded.upgrade) return loaded.registry
  return updateRegistry(home, (registry) => structuredClone(registry), options)
}

async function loadRegistry(home: string, options: StoreOptions): Promise<LoadedRegistry> {
  const { file } = registryPaths(home)
  let text: string
  try {
    // One small file: read in one call (an fs.promises read is four threadpool trips, and the last
    // close could keep a read-only command's process alive after it answered).
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      return { registry: { version: REGISTRY_VERSION, instances: [] } }
    throw corrupt(file, (error as Error).message, error)
  }
  // The same bytes parse to the same registry: one parse per process however many steps and
  // services read it (sandbox list reads it three times; zod checks every record).
  if (parsedText?.text === text) return { registry: structuredClone(parsedText.registry) }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (error) {
    throw corrupt(file, `not valid JSON (${(error as Error).message})`, error)
  }
  const version = (json as { version?: unknown } | null)?.version
  if (typeof version === 'number' && Number.isInteger(version) && version > REGISTRY_VERSION) {
    throw new OperationError(
      `registry ${file} was written by a newer berth (registry version ${version}; this berth reads versions 1 to ${REGISTRY_VERSION}). berth has not changed it.`,
      {
        code: 'E_REGISTRY_NEWER',
        hint: 'upgrade berth to the version that wrote it (every berth sharing BERTH_HOME must be as new)',
      },
    )
  }
  if (version === 1) {
    const parsed = registryV1Schema.safeParse(json)
    if (!parsed.success) throw corrupt(file, `does not match registry version 1: ${firstIssue(parsed.error)}`)
    return upgradeV1(parsed.data.instances, options.assumePorts)
  }
  // What berth itself wrote, unchanged since: its own fingerprint of the records matches, and they
  // are exactly what the schema gave when they were written (issue 16: zod walking 50 records cost
  // ~3 ms of every `sandbox list`). Anything else — a hand edit, a berth that wrote no
  // fingerprint, damage — is checked against the schema field by field.
  const written = json as { version: number; instances?: unknown; checksum?: unknown }
  if (
    written.version === REGISTRY_VERSION &&
    typeof written.checksum === 'string' &&
    written.checksum === recordsChecksum(written.instances)
  ) {
    const registry: Registry = { version: REGISTRY_VERSION, instances: written.instances as Registry['instances'] }
    parsedText = { text, registry: structuredClone(registry) }
    return { registry }
  }
  const parsed = registrySchema.safeParse(json)
  if (!parsed.success) {
    throw corrupt(file, `does not match registry version ${REGISTRY_VERSION}: ${firstIssue(parsed.error)}`)
  }
  parsedText = { text, registry: structuredClone(parsed.data) }
  return { registry: parsed.data }
}

/**
 * The `checksum` berth writes beside the records: the fingerprint of their JSON, to tell its own
 * unchanged output from anything else (not a defence against someone forging it: whoever can write
 * the file can write any registry).
 */
export function recordsChecksum(instances: unknown): string {
  return fingerprint(JSON.stringify(instances) ?? '')
}

/** The last registry text parsed in this process, and what it parsed to (never handed out: copies are). */
let parsedText: { text: string; registry: Registry } | undefined

function firstIssue(error: z.ZodError): string {
  const first = error.issues[0]
  return `${first?.path.join('.')}: ${first?.message}`
}

function corrupt(file: string, reason: string, cause?: unknown): OperationError {
  return new OperationError(`registry ${file} is unreadable: ${reason}. berth has not changed it.`, {
    code: 'E_REGISTRY_CORRUPT',
    cause,
    hint: `inspect and repair it, or move it aside (mv ${file} ${file}.broken) and re-register each instance with 'berth sandbox init' in its folder`,
  })
}

/**
 * The file the registry's bytes live in: `registry.json` itself, or — when it is a symlink (a
 * synced dotfiles folder, say) — the file it points to, so that writing keeps the link.
 */
export async function registryTarget(file: string): Promise<string> {
  try {
    if (!(await lstat(file)).isSymbolicLink()) return file
  } catch {
    return file
  }
  try {
    return await realpath(file)
  } catch {
    return resolve(dirname(file), await readlink(file)) // dangling: create what it points to
  }
}

/**
 * Writes via a temp file, fsync and rename, mode 0600: readers see the old or the new file, never
 * half. A `registry.json` that is a symlink stays one: its target is replaced instead.
 */
export async function writeRegistry(home: string, registry: Registry): Promise<void> {
  const file = await registryTarget(registryPaths(home).file)
  const temp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  const valid = registrySchema.parse(registry)
  const text = `${JSON.stringify({ version: valid.version, checksum: recordsChecksum(valid.instances), instances: valid.instances }, null, 2)}\n`
  try {
    const handle = await open(temp, 'wx', 0o600)
    try {
      await handle.writeFile(text)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temp, file)
    const dir = await open(dirname(file), 'r').catch(() => undefined)
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
 * the registry is written only when `change` mutated it, or when the file was in an older format
 * (the upgrade is written then, before anything else can read the old form again).
 */
export async function updateRegistry<T>(
  home: string,
  change: (registry: Registry) => T | Promise<T>,
  options: StoreOptions = {},
): Promise<T> {
  await mkdir(home, { recursive: true, mode: 0o700 })
  return withLock(registryPaths(home).lock, async () => {
    const { registry, upgrade } = await loadRegistry(home, options)
    const before = JSON.stringify(registry)
    const result = await change(registry)
    if (upgrade || JSON.stringify(registry) !== before) await writeRegistry(home, registry)
    if (upgrade) options.onUpgrade?.(upgrade, registryPaths(home).file)
    return result
  })
}
