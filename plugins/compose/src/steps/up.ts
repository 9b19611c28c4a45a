import { defineStep, flag, type TaskContext } from '@berth/contract'
import { projectResources } from '../engine.js'
import { composeOutput } from '../outputs.js'
import { assertComposeOk, runCompose } from '../run.js'
import {
  assertFilesExist,
  type ComposeState,
  composeSession,
  composeState,
  composeStateKey,
  describeFlavour,
} from './context.js'
import { assertInertEnv } from './inert-env.js'
import { assertOwnsProject } from './ownership.js'
import { tearDownProject } from './teardown.js'

/**
 * `compose.up`: `up -d --remove-orphans [--build] [services…]` with the instance's env and secrets
 * in compose's environment. A failed start of a project that did not exist before is rolled back
 * at once (containers, networks, volumes), whether or not the runner undoes this step.
 */
export const composeUpStep = defineStep({
  description: "start the instance's compose project (up -d; --build rebuilds images)",
  flags: { build: flag.boolean('rebuild images before starting') },
  outputs: [composeOutput],
  async run(ctx) {
    assertInertEnv(ctx.env, ctx.instance ? `${ctx.instance.path}/.env.sandbox` : undefined)
    const session = await composeSession(ctx, 'compose.up')
    assertFilesExist(session.files)
    await assertOwnsProject(session.instance, session.files, 'start')
    const before = await projectResources(session.project)
    const state: ComposeState = {
      project: session.project,
      existedBefore: before.containers.length + before.volumes.length > 0,
      volumesBefore: before.volumes.map((volume) => volume.Name),
    }
    composeStateKey.set(ctx, state)
    const command = ['up', '-d', '--remove-orphans']
    if (ctx.flags.build === true) command.push('--build')
    command.push(...(session.config.services ?? []))
    ctx.log.info(`starting compose project ${session.project} (${describeFlavour(session)})`)
    const result = await runCompose(command, session.options)
    if (result.exitCode !== 0 && !state.existedBefore) {
      ctx.log.warn(`compose up of ${session.project} failed; removing what it created`)
      await tearDownProject(ctx, session.project, session).catch((error: unknown) => {
        ctx.log.warn(`rollback of ${session.project} incomplete: ${ctx.redactor.redact(String(error))}`)
      })
    }
    assertComposeOk(result, `compose up of ${session.project}`, ctx.redactor)
    ctx.output.compose = { project: session.project, flavour: session.options.flavour.flavour, files: session.files }
  },
  async undo(ctx) {
    await undoUp(ctx)
  },
})

/**
 * A project berth just created is removed with everything labelled with it; one that existed
 * before (a restart of an existing sandbox) is only taken down, keeping its volumes and data.
 */
async function undoUp(ctx: TaskContext): Promise<void> {
  const session = await composeSession(ctx, 'compose.up (undo)', { tolerateRenderError: true })
  if (composeState(ctx)?.existedBefore) {
    ctx.log.info(`stopping compose project ${session.project} (its volumes existed before, so they are kept)`)
    // No abort signal: a rollback must finish even after Ctrl-C (see tearDownProject).
    const result = await runCompose(['down', '--remove-orphans'], { ...session.options, signal: undefined })
    assertComposeOk(result, `compose down of ${session.project}`, ctx.redactor)
    return
  }
  ctx.log.info(`removing compose project ${session.project} with its volumes and networks`)
  await tearDownProject(ctx, session.project, session)
}
