import { open, readFile, rename, stat, unlink } from 'node:fs/promises'
import { OperationError } from '@berth/contract'

export interface LockOptions {
  /** Give up when the lock has not changed hands for this long; default 60 s. */
  timeoutMs?: number
}

/** Start time of a process (field 22 of /proc/PID/stat), to tell a live owner from a reused pid. */
export async function processStartTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (!stat) return undefined
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

/** True when the process that wrote `owner` is still the same running process. */
export async function ownerAlive(owner: { pid: number; startTime?: string | undefined }): Promise<boolean> {
  try {
    process.kill(owner.pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  if (!owner.startTime) return true
  const now = await processStartTime(owner.pid)
  return now === undefined || now === owner.startTime
}

interface LockFile {
  pid: number
  startTime?: string
  acquiredAt: string
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Runs `critical` while holding `lockPath`, a file created with O_EXCL and mode 0600 holding the
 * owner's pid and start time. A lock whose owner died (SIGKILL, crash) is taken over, so a dead
 * holder never leaves berth stuck. Takeovers are serialised through `<lock>.steal` so two waiters
 * cannot both remove one stale lock and then each other's fresh one.
 */
export async function withLock<T>(lockPath: string, critical: () => Promise<T>, options: LockOptions = {}): Promise<T> {
  // The deadline counts from the last time the lock changed hands: a long queue that keeps moving
  // (twenty claims at once on a loaded machine) never times out, one stuck holder does.
  const patience = options.timeoutMs ?? 60_000
  let deadline = Date.now() + patience
  let lastHolder: string | undefined
  const self: LockFile = { pid: process.pid, acquiredAt: new Date().toISOString() }
  const startTime = await processStartTime(process.pid)
  if (startTime) self.startTime = startTime
  let wait = 2
  for (;;) {
    try {
      const handle = await open(lockPath, 'wx', 0o600)
      try {
        await handle.writeFile(JSON.stringify(self))
      } catch (error) {
        // A lock we created but could not fill (disk full) must not outlive us as an unreadable lock.
        await handle.close().catch(() => {})
        await unlink(lockPath).catch(() => {})
        throw error
      }
      await handle.close()
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new OperationError(`cannot create lock ${lockPath}: ${(error as Error).message}`, { cause: error })
      }
    }
    await breakIfStale(lockPath)
    const holder = await readFile(lockPath, 'utf8').catch(() => '?')
    if (holder !== lastHolder) {
      lastHolder = holder
      deadline = Date.now() + patience
    }
    if (Date.now() > deadline) {
      throw new OperationError(`timed out waiting for ${lockPath} (held by ${holder})`, {
        code: 'E_LOCK_TIMEOUT',
        hint: 'another berth command is still running; if none is, remove the lock file',
      })
    }
    await sleep(wait + Math.random() * wait)
    wait = Math.min(wait * 2, 50)
  }
  try {
    return await critical()
  } finally {
    await unlink(lockPath).catch(() => {})
  }
}

async function breakIfStale(lockPath: string): Promise<void> {
  const holder = await readLock(lockPath)
  if (holder === 'missing') return
  if (holder !== 'unreadable' && (await ownerAlive(holder))) return
  if (holder === 'unreadable') {
    // A holder writes its pid right after creating the file; give it a moment before judging.
    const age = await stat(lockPath).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    )
    if (age < 2000) return
  }
  const stealPath = `${lockPath}.steal`
  try {
    const handle = await open(stealPath, 'wx', 0o600)
    await handle.close()
  } catch {
    const age = await stat(stealPath).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    )
    if (age > 5000) await unlink(stealPath).catch(() => {})
    return
  }
  try {
    const again = await readLock(lockPath)
    const sameHolder =
      again === holder ||
      (typeof again === 'object' &&
        typeof holder === 'object' &&
        again.pid === holder.pid &&
        again.acquiredAt === holder.acquiredAt)
    if (sameHolder) {
      const aside = `${lockPath}.stale-${process.pid}`
      await rename(lockPath, aside).catch(() => {})
      await unlink(aside).catch(() => {})
    }
  } finally {
    await unlink(stealPath).catch(() => {})
  }
}

async function readLock(lockPath: string): Promise<LockFile | 'missing' | 'unreadable'> {
  let text: string
  try {
    text = await readFile(lockPath, 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable'
  }
  try {
    const parsed = JSON.parse(text) as LockFile
    return typeof parsed.pid === 'number' ? parsed : 'unreadable'
  } catch {
    return 'unreadable'
  }
}
