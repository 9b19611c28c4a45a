import { writeFileSync } from 'node:fs'
import { mkdir, open, readdir, readFile, rmdir, stat, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ConflictError, OperationError } from '@berth/contract'
import { ownerAlive, processStartTime } from './lock.js'

/**
 * One operation per instance at a time. Every command that changes an instance (impl, spec,
 * sandbox init/up/down/destroy, done, local-prod …, test e2e) holds `$BERTH_HOME/locks/<id>.lock`
 * from before its first change until after its rollback. A second one exits 3 at once —
 * `busy: <pid> <command>` — rather than waiting an unknown time behind a gate or an image build:
 * agents get a fast, certain answer and try again. A holder that died (SIGKILL, crash) never
 * blocks: its pid is gone (or now belongs to another process) and the lock is taken over.
 */
export interface InstanceLockHolder {
  pid: number
  startTime?: string | undefined
  /** What the holder runs, e.g. `berth sandbox up`. */
  command: string
  instance: string
  acquiredAt: string
  /**
   * Set when the user stopped the operation's rollback (a third Ctrl-C): the steps whose changes
   * are left. `doctor --fix` finishes that rollback.
   */
  abandoned?: { at: string; leftBehind: string[] } | undefined
}

export function instanceLocksDir(home: string): string {
  return join(home, 'locks')
}

export function instanceLockPath(home: string, id: string): string {
  return join(instanceLocksDir(home), `${id}.lock`)
}

/**
 * Takes the lock of instance `id` for `command`, or throws a ConflictError (exit 3, `E_BUSY`)
 * naming the live holder. Returns the holder record to release with.
 */
export async function acquireInstanceLock(home: string, id: string, command: string): Promise<InstanceLockHolder> {
  const path = instanceLockPath(home, id)
  const startTime = await processStartTime(process.pid)
  const self: InstanceLockHolder = {
    pid: process.pid,
    ...(startTime ? { startTime } : {}),
    command,
    instance: id,
    acquiredAt: new Date().toISOString(),
  }
  for (let attempt = 0; attempt < 50; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30))
    try {
      // Made afresh each time: a release removes the folder once it is empty. That removal can
      // land between this mkdir's steps (Node's recursive mkdir then fails with ENOENT) or before
      // the open below: both are ENOENT, and the next attempt makes the folder again.
      await mkdir(instanceLocksDir(home), { recursive: true, mode: 0o700 })
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(`${JSON.stringify(self)}\n`)
      } catch (error) {
        await handle.close().catch(() => {})
        await unlink(path).catch(() => {})
        throw new OperationError(`cannot write the lock ${path}: ${(error as Error).message}`, { cause: error })
      }
      await handle.close()
      return self
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOENT') continue // another release removed the empty folder just now (see above)
      if (code !== 'EEXIST') {
        if (error instanceof OperationError) throw error
        throw new OperationError(`cannot create the lock ${path}: ${(error as Error).message}`, { cause: error })
      }
    }
    const holder = await readHolder(path)
    if (holder === 'missing') continue
    // Its holder writes it right after creating it: a fresh unreadable lock is not stale yet.
    if (holder === 'unreadable' && (await ageMs(path)) < 2000) continue
    if (holder !== 'unreadable' && (await ownerAlive(holder))) {
      throw new ConflictError(`busy: ${holder.pid} ${holder.command} (working on ${id} since ${holder.acquiredAt})`, {
        code: 'E_BUSY',
        hint: `one operation per instance at a time: wait until pid ${holder.pid} is done (or stop it), then run this again`,
        details: { holder },
      })
    }
    await removeStale(path, holder)
  }
  throw new OperationError(`could not take the lock ${path}`, {
    hint: 'another berth command keeps taking it; try again',
  })
}

/** Releases the lock if `holder` still holds it (never someone else's). */
export async function releaseInstanceLock(home: string, holder: InstanceLockHolder): Promise<void> {
  const path = instanceLockPath(home, holder.instance)
  const current = await readHolder(path)
  if (typeof current === 'object' && current.pid === holder.pid && current.acquiredAt === holder.acquiredAt) {
    await unlink(path).catch(() => {})
  }
  // BERTH_HOME keeps no empty folder behind (another holder's lock keeps it: ENOTEMPTY).
  await rmdir(instanceLocksDir(home)).catch(() => {})
}

/**
 * Marks the held lock as abandoned, naming what the stopped rollback left (synchronous: berth is
 * about to exit). The file then outlives the process as the record `doctor --fix` acts on.
 */
export function markAbandoned(home: string, holder: InstanceLockHolder, leftBehind: string[]): void {
  const record: InstanceLockHolder = { ...holder, abandoned: { at: new Date().toISOString(), leftBehind } }
  writeFileSync(instanceLockPath(home, holder.instance), `${JSON.stringify(record)}\n`, { mode: 0o600 })
}

/** The live holder of instance `id`'s lock, if any. */
export async function instanceLockHolder(home: string, id: string): Promise<InstanceLockHolder | undefined> {
  const holder = await readHolder(instanceLockPath(home, id))
  return typeof holder === 'object' && (await ownerAlive(holder)) ? holder : undefined
}

/** Locks left by berth processes that died: the operation they name was interrupted. */
export async function staleInstanceLocks(home: string): Promise<{ path: string; holder: InstanceLockHolder }[]> {
  const dir = instanceLocksDir(home)
  const names = await readdir(dir).catch(() => [] as string[])
  const stale: { path: string; holder: InstanceLockHolder }[] = []
  for (const name of names.filter((entry) => entry.endsWith('.lock'))) {
    const path = join(dir, name)
    const holder = await readHolder(path)
    if (typeof holder === 'object' && !(await ownerAlive(holder))) stale.push({ path, holder })
  }
  return stale
}

/**
 * Removes a dead holder's lock (or one nobody finished writing). Takeovers are serialised through
 * `<lock>.steal`, and the lock is removed only if it still is the one judged dead — so two takers
 * never remove each other's fresh lock.
 */
async function removeStale(path: string, judged: InstanceLockHolder | 'unreadable'): Promise<void> {
  const steal = `${path}.steal`
  try {
    await (await open(steal, 'wx', 0o600)).close()
  } catch {
    if ((await ageMs(steal)) > 5000) await unlink(steal).catch(() => {})
    return
  }
  try {
    const again = await readHolder(path)
    const same =
      again === judged ||
      (typeof again === 'object' &&
        typeof judged === 'object' &&
        again.pid === judged.pid &&
        again.acquiredAt === judged.acquiredAt)
    if (same) await unlink(path).catch(() => {})
  } finally {
    await unlink(steal).catch(() => {})
  }
}

async function ageMs(path: string): Promise<number> {
  return stat(path).then(
    (info) => Date.now() - info.mtimeMs,
    () => 0,
  )
}

async function readHolder(path: string): Promise<InstanceLockHolder | 'missing' | 'unreadable'> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'
  }
  try {
    const parsed = JSON.parse(text) as InstanceLockHolder
    return typeof parsed.pid === 'number' && typeof parsed.command === 'string' ? parsed : 'unreadable'
  } catch {
    return 'unreadable'
  }
}
