/**
 * Children that must not outlive an interrupt. berth starts git and compose in their own process
 * group (spawned `detached`), so that on Ctrl-C or SIGTERM — whether the signal reached berth alone
 * or its whole group — berth can end the child together with everything the child started (git's
 * hooks, compose's helpers) and wait until all of them are gone before it rolls anything back:
 * a hook still writing into a worktree berth is removing would leave the folder behind.
 */

/** Something spawned `detached`: its pid is its process group id. */
export interface GroupLeader {
  readonly pid?: number | undefined
}

export interface EndGroupOptions {
  /** Between SIGTERM and SIGKILL; default 3 s (git removes a half-made worktree on SIGTERM). */
  graceMs?: number
  /** Give up waiting for the group to be gone after this long; default 10 s. */
  waitMs?: number
}

/** True while any process of group `pgid` exists. */
export function processGroupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Ends process group `pgid`: SIGTERM to every member, SIGKILL to what is left after `graceMs`,
 * then waits until no member remains. Resolves true when the group is gone.
 */
export async function endProcessGroup(pgid: number, options: EndGroupOptions = {}): Promise<boolean> {
  const graceMs = options.graceMs ?? 3000
  const waitMs = options.waitMs ?? 10_000
  signalGroup(pgid, 'SIGTERM')
  if (await waitForGroupExit(pgid, graceMs)) return true
  signalGroup(pgid, 'SIGKILL')
  return waitForGroupExit(pgid, waitMs)
}

/** Polls until group `pgid` has no member left, at most `ms`; true when it is gone. */
export async function waitForGroupExit(pgid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (let wait = 5; processGroupAlive(pgid); wait = Math.min(wait * 2, 100)) {
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, wait))
  }
  return true
}

/**
 * Ties a detached child's whole process group to `signal`: when the signal aborts, the group is
 * ended ({@link endProcessGroup}). `settle()`, called once the child has exited, removes the
 * listener and — after an abort — waits until every process of the group is gone, so the caller
 * never cleans up while a grandchild is still at work.
 */
export function bindGroupToSignal(
  child: GroupLeader,
  signal: AbortSignal | undefined,
  options: EndGroupOptions = {},
): { settle(): Promise<void> } {
  let ending: Promise<unknown> | undefined
  const end = () => {
    ending ??= (async () => {
      // The child may not have been spawned yet when the signal fires.
      for (let tries = 0; child.pid === undefined && tries < 200; tries++) {
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
      if (child.pid !== undefined) await endProcessGroup(child.pid, options)
    })()
  }
  if (signal?.aborted) end()
  else signal?.addEventListener('abort', end, { once: true })
  return {
    async settle() {
      signal?.removeEventListener('abort', end)
      if (!signal?.aborted) return
      end()
      await ending
    },
  }
}

function signalGroup(pgid: number, name: NodeJS.Signals): void {
  try {
    process.kill(-pgid, name)
  } catch {
    // already gone
  }
}
