import { defineStep } from '@berth/contract'
import { listComposeContainers } from '@berth/engine'
import { composeOutput, containersOutput, stateOutput } from '../outputs.js'
import { composeProjectName } from '../project.js'
import { projectStatus } from '../status.js'
import { composeSettings, requireInstance } from './context.js'

/**
 * `compose.status`: one engine request for all compose containers, filtered here by the project
 * label. Writes `ctx.output.containers` and `ctx.output.state`.
 */
export const composeStatusStep = defineStep({
  description: "the instance's containers, health and published ports (one engine API request)",
  uses: [],
  outputs: [containersOutput, stateOutput, composeOutput],
  async run(ctx) {
    const instance = requireInstance(ctx, 'compose.status')
    const project = composeProjectName(instance.id)
    const status = projectStatus(await listComposeContainers(), project, composeSettings(ctx).services)
    ctx.output.containers = status.containers
    ctx.output.state = status.state
    ctx.output.compose = { project }
    ctx.log.debug(`compose project ${project}: ${status.state}, ${status.containers.length} container(s)`)
  },
})
