import { defineStep, EnvironmentError, flag } from '@berth/contract'
import { composeOutput } from '../outputs.js'
import { composeProjectName } from '../project.js'
import { assertComposeOk, runCompose } from '../run.js'
import { assertFilesExist, composeFilesFor, composeSession, requireInstance } from './context.js'
import { assertOwnsProject } from './ownership.js'
import { tearDownProject } from './teardown.js'

/** `compose.down`: stop and remove the containers; `--volumes` also removes the data. */
export const composeDownStep = defineStep({
  description: "stop the instance's compose project (down; --volumes deletes its data)",
  effect: 'write',
  flags: { volumes: flag.boolean("also remove the instance's volumes (its data)") },
  outputs: [composeOutput],
  plan: (ctx) =>
    `stop compose project ${ctx.instance?.id ?? '?'}${ctx.flags.volumes ? ' and delete its volumes' : ' (volumes kept)'}`,
  async run(ctx) {
    const session = await composeSession(ctx, 'compose.down')
    assertFilesExist(session.files)
    await assertOwnsProject(session.instance, session.files, 'stop')
    const command = ['down', '--remove-orphans']
    if (ctx.flags.volumes === true) command.push('--volumes')
    ctx.log.info(`stopping compose project ${session.project}`)
    const result = await runCompose(command, session.options)
    assertComposeOk(result, `compose down of ${session.project}`, ctx.redactor)
    ctx.output.compose = { project: session.project, volumesRemoved: ctx.flags.volumes === true }
  },
})

/**
 * `compose.destroy` (used by `done` and `destroy`): `down --volumes --remove-orphans`, then removes
 * anything still labelled with the project through the engine API. Idempotent; works when the
 * checkout (and so the compose file) is already gone.
 */
export const composeDestroyStep = defineStep({
  description: "remove the instance's containers, volumes and networks (nothing labelled with the project remains)",
  effect: 'write',
  outputs: [composeOutput],
  plan: (ctx) => `remove compose project ${ctx.instance?.id ?? '?'}: its containers, volumes and networks`,
  async run(ctx) {
    const instance = requireInstance(ctx, 'compose.destroy')
    const project = composeProjectName(instance.id)
    // Without compose (or its files) the engine API alone can still remove everything.
    const session = await composeSession(ctx, 'compose.destroy', { tolerateRenderError: true }).catch(
      (error: unknown) => {
        if (!(error instanceof EnvironmentError && error.code === 'E_NO_COMPOSE')) throw error
        ctx.log.warn(`${error.message}; removing ${project} through the engine API only`)
        return undefined
      },
    )
    await assertOwnsProject(instance, session?.files ?? composeFilesFor(ctx), 'remove')
    ctx.log.info(`removing compose project ${project} with its volumes and networks`)
    const { images, ...swept } = await tearDownProject(ctx, project, session, instance.id)
    ctx.output.compose = { project, leftoversRemoved: swept, imagesRemoved: images }
  },
})
