import { engineRequest, listComposeContainers, type Step } from '@berth/contract'
import { listComposeVolumes } from '../engine.js'
import { detectComposeFlavour } from '../flavour.js'
import { orphansOf } from './list.js'

/**
 * `compose.doctor`: can berth run compose here? Reports the compose flavour, the engine's
 * version, and orphan projects. Never throws for what it finds: every finding is in
 * `ctx.output.compose` (`ok: false` when compose or the engine is missing) and logged as a warning.
 */
export const composeDoctorStep: Step = {
  description: 'check the compose flavour, the Docker engine and orphan compose projects',
  async run(ctx) {
    const problems: string[] = []
    const flavour = await detectComposeFlavour().then(
      (found) => ({ ok: true as const, ...found }),
      (error: Error) => {
        problems.push(error.message)
        return { ok: false as const, error: error.message }
      },
    )
    const engine = await engineRequest<{ Version: string; ApiVersion: string }>('/version').then(
      (answer) => ({ ok: true as const, version: answer.Version, apiVersion: answer.ApiVersion }),
      (error: Error) => {
        problems.push(error.message)
        return { ok: false as const, error: error.message }
      },
    )
    let orphans: ReturnType<typeof orphansOf> = null
    if (engine.ok) {
      const [containers, volumes] = await Promise.all([listComposeContainers(), listComposeVolumes()])
      orphans = orphansOf(ctx, containers, volumes, (await ctx.services.listInstances?.()) ?? [])
    }
    for (const problem of problems) ctx.log.warn(problem)
    ctx.output.compose = { ok: problems.length === 0, flavour, engine, orphans, problems }
  },
}
