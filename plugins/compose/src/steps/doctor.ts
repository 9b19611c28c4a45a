import { type Diagnosis, engineRequest, listComposeContainers, type TaskContext } from '@berth/contract'
import { listComposeVolumes } from '../engine.js'
import { detectComposeFlavour } from '../flavour.js'
import { composeProjectName } from '../project.js'
import { findOrphans } from '../status.js'
import { describeOrphan } from './list.js'

/**
 * `berth doctor`'s compose findings: the compose flavour (v2 plugin or v1 binary) and orphan
 * compose projects (named like this project's instances, not in the registry). Changes nothing.
 * The engine itself is checked by the runner.
 */
export async function diagnoseCompose(ctx: TaskContext): Promise<Diagnosis[]> {
  const found: Diagnosis[] = []
  try {
    const flavour = await detectComposeFlavour()
    found.push({
      check: 'compose',
      status: 'ok',
      detail: `${flavour.command.join(' ')} ${flavour.version} (${flavour.flavour})`,
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
  const engineUp = await engineRequest('/version').then(
    () => true,
    () => false,
  )
  if (!engineUp || !ctx.services.listInstances) return found
  const [containers, volumes, instances] = await Promise.all([
    listComposeContainers(),
    listComposeVolumes(),
    ctx.services.listInstances(),
  ])
  const orphans = findOrphans(
    containers,
    volumes,
    instances.map((i) => i.id),
    composeProjectName(ctx.config.project),
  )
  for (const orphan of orphans) found.push({ check: 'orphan stack', status: 'warn', detail: describeOrphan(orphan) })
  if (orphans.length === 0) found.push({ check: 'orphan stacks', status: 'ok', detail: 'none' })
  return found
}
