import type { Diagnosis, TaskContext } from '@berth/contract'
import { engineRequest } from '@berth/engine'
import { detectComposeFlavour } from '../flavour.js'
import { diagnoseGuardrails } from './guardrails.js'
import { diagnoseInstanceStacks } from './instances.js'
import { describeOrphan } from './list.js'
import { findOrphanStacks, orphanVerdict } from './repair.js'

/**
 * `berth doctor`'s compose findings: the compose flavour (v2 plugin or v1 binary) and orphan
 * compose projects (named like this project's instances, not in the registry, with containers,
 * volumes or networks), the stack state of every registered instance and the strict guardrails
 * its running containers break (read back from the engine). Changes nothing.
 * The engine itself is checked by the runner.
 */
export async function diagnoseCompose(ctx: TaskContext): Promise<Diagnosis[]> {
  const found: Diagnosis[] = []
  try {
    const flavour = await detectComposeFlavour({ withVersion: true })
    found.push({
      check: 'compose',
      status: 'ok',
      detail: `${flavour.label} ${flavour.version} (${flavour.flavour})`,
    })
  } catch (error) {
    found.push({
      check: 'compose',
      status: 'fail',
      detail: (error as Error).message,
      hint: 'install the docker compose plugin (v2) or docker-compose (v1)',
      exitCode: 4,
    })
  }
  const engineUp = await engineRequest('/_ping').then(
    () => true,
    () => false,
  )
  if (!engineUp || !ctx.services.listInstances) return found
  const [orphans, stacks, guardrails] = await Promise.all([
    findOrphanStacks(ctx),
    diagnoseInstanceStacks(ctx),
    ctx.services.listInstances().then((instances) => diagnoseGuardrails(ctx, instances)),
  ])
  for (const orphan of orphans ?? []) {
    found.push({
      check: 'orphan stack',
      status: 'warn',
      detail: describeOrphan(orphan),
      hint: orphanVerdict(orphan, ctx.config.project).remove
        ? "'berth doctor --fix' removes it (down --volumes)"
        : 'berth doctor --fix leaves it alone (see its repair line for why)',
    })
  }
  if (orphans?.length === 0) found.push({ check: 'orphan stacks', status: 'ok', detail: 'none' })
  found.push(...stacks, ...guardrails)
  return found
}
