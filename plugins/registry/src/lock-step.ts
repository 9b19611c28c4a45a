import { unlink } from 'node:fs/promises'
import type { Diagnosis, Repair, TaskContext } from '@berth/contract'
import { composeProjectName, defineState, defineStep, OperationError } from '@berth/contract'
import { projectResourceCounts } from '@berth/engine'
import {
  acquireInstanceLock,
  type InstanceLockHolder,
  instanceLockHolder,
  markAbandoned,
  releaseInstanceLock,
  staleInstanceLocks,
} from './instance-lock.js'
import type { Registry } from './schema.js'

/** What `registry.lock` holds for the rest of the pipeline. */
interface HeldLock {
  holder: InstanceLockHolder
}

/** The instance lock this command holds, between `registry.lock` and the plugin's `finalize`. */
const heldLock = defineState<HeldLock>('registry.lock')

/** `berth sandbox up`, `berth impl x`: how a lock names its holder's command. */
export function commandLine(ctx: TaskContext): string {
  const words = ['berth', ...ctx.task.split('.')]
  if (ctx.request.name) words.push(ctx.request.name)
  return words.join(' ')
}

/**
 * `registry.lock`: one operation per instance. Takes the instance's lock before the pipeline
 * changes anything (right after the instance is planned or resolved) and keeps it through any
 * rollback; the plugin's `finalize` releases it. A second operation on the same instance exits 3
 * at once, `busy: <pid> <command>`. Under `--dry-run` it only checks.
 */
export const lockStep = defineStep({
  description: 'take the instance lock: one operation per instance at a time (busy: exit 3)',
  effect: 'read',
  async run(ctx) {
    const instance = ctx.instance
    if (!instance) throw new OperationError('registry.lock needs an instance from an earlier step')
    if (ctx.dryRun) {
      const holder = await instanceLockHolder(ctx.home, instance.id)
      if (holder) ctx.log.warn(`busy: ${holder.pid} ${holder.command} is working on ${instance.id}`)
      return
    }
    const holder = await acquireInstanceLock(ctx.home, instance.id, commandLine(ctx))
    heldLock.set(ctx, { holder })
    ctx.log.debug(`holding the lock of ${instance.id}`)
  },
})

/** Releases the lock this command holds, if any (the registry plugin's `finalize`). */
export async function releaseHeldLock(ctx: TaskContext): Promise<void> {
  const held = heldLock.get(ctx)
  if (!held) return
  await releaseInstanceLock(ctx.home, held.holder)
  heldLock.delete(ctx)
}

/** The registry plugin's `abandon`: the held lock records what the stopped rollback left. */
export function recordAbandoned(ctx: TaskContext, leftBehind: string[]): void {
  const held = heldLock.get(ctx)
  if (held) markAbandoned(ctx.home, held.holder, leftBehind)
}

/** An abandoned `impl` / `spec`: the rollback `doctor --fix` finishes by releasing its claim. */
function abandonedCreation(holder: InstanceLockHolder): boolean {
  return holder.abandoned !== undefined && /^berth (impl|spec) /.test(holder.command)
}

/** `doctor`: locks whose holder died name an interrupted operation (and an abandoned rollback). */
export async function diagnoseInstanceLocks(home: string): Promise<Diagnosis[]> {
  return (await staleInstanceLocks(home)).map(({ holder }) =>
    holder.abandoned
      ? {
          check: 'interrupted operation',
          status: 'warn' as const,
          detail: `${holder.command} (pid ${holder.pid}) was stopped during its rollback at ${holder.abandoned.at}; left: ${holder.abandoned.leftBehind.join(', ')}`,
          hint: abandonedCreation(holder)
            ? `'berth doctor --fix' finishes the rollback: it releases the claim of ${holder.instance}, then removes its worktree (unless it holds work) and its stack`
            : `'berth doctor --fix' removes the lock; see the other findings for what the run left`,
        }
      : {
          check: 'interrupted operation',
          status: 'warn' as const,
          detail: `${holder.command} (pid ${holder.pid}, started ${holder.acquiredAt}) died while working on ${holder.instance}`,
          hint: `the next command takes its lock over; 'berth doctor --fix' removes it. See the other findings for what it left`,
        },
  )
}

/**
 * `doctor --fix`: removes the locks of dead holders. For an `impl` / `spec` whose rollback the
 * user stopped, it also releases the instance's claim — the rollback's last step; the worktree
 * and compose repairs that run after this one then find an unregistered worktree (removed unless
 * it holds work) and an orphan stack (removed once its checkout is gone).
 */
export async function repairInstanceLocks(
  home: string,
  dryRun: boolean,
  release: (id: string) => Promise<boolean>,
): Promise<Repair[]> {
  const repairs: Repair[] = []
  for (const { path, holder } of await staleInstanceLocks(home)) {
    if (abandonedCreation(holder)) {
      const action = `finish the rollback of ${holder.command}: release the claim of ${holder.instance}`
      // Its stack's volumes are data: while the stopped teardown has not removed them, the claim
      // stays (`berth done` then removes everything, refusing on unsaved work).
      const stack = await projectResourceCounts(composeProjectName(holder.instance)).catch(() => undefined)
      if (!stack || stack.containers + stack.volumes > 0) {
        repairs.push({
          action,
          status: 'skipped',
          detail: stack
            ? `its stack still has ${stack.containers} container(s) and ${stack.volumes} volume(s): 'berth done ${holder.instance}' removes everything (it refuses on unsaved work)`
            : `the Docker engine cannot say whether its stack is gone: 'berth done ${holder.instance}' removes everything`,
        })
        continue
      }
      if (dryRun) repairs.push({ action, status: 'planned' })
      else {
        const released = await release(holder.instance)
        repairs.push({ action, status: 'fixed', ...(released ? {} : { detail: 'it was not registered any more' }) })
      }
    }
    const action = `remove the lock ${holder.command} (pid ${holder.pid}, dead) left on ${holder.instance}`
    if (!dryRun) await unlink(path).catch(() => {})
    repairs.push({ action, status: dryRun ? 'planned' : 'fixed' })
  }
  return repairs
}

/** Removes instance `id` from `registry`; true when it was there. */
export function dropInstance(registry: Registry, id: string): boolean {
  const before = registry.instances.length
  registry.instances = registry.instances.filter((r) => r.id !== id)
  return registry.instances.length < before
}
