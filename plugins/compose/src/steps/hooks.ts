import { defineOutput, defineStep, flag, lazySchema, OperationError } from '@berth/contract'
import * as z from 'zod'
import { findProjectVolume, hookStateFile, isFresh, readHookState, recordHook } from '../hooks/fresh.js'
import { type HookRun, hookRunSchema, runHook } from '../hooks/run-hook.js'
import { type HookConfig, hooksSection } from '../hooks/schema.js'
import { projectContainers, serviceNotReady } from '../hooks/wait.js'
import { assertFilesExist, composeSession, composeState } from './context.js'

/** `output.hooks`: every hook this command considered, in order, with its outcome. */
export const hooksOutput = defineOutput(
  'hooks',
  lazySchema(() => z.array(hookRunSchema)),
  {
    description: 'the lifecycle hooks this command ran or skipped, each with its exit code and output tail',
    render: (runs) =>
      runs.map((run) => {
        const mark = run.status === 'passed' ? '✔' : run.status === 'skipped' ? '-' : '✖'
        const detail = run.status === 'skipped' ? (run.reason ?? '') : `${run.durationMs} ms`
        return `  ${mark} hook ${run.name.padEnd(12)} ${run.when} in ${run.service}  ${detail}`
      }),
  },
)

const hookFlags = {
  'no-hooks': flag.boolean('skip the lifecycle hooks of the config (migrations, seeds, dumps)'),
}

/**
 * `compose.afterUp`: after `compose.up`, before the gate — every `after-up` hook (migrations),
 * and every `fresh-volume` hook whose volume it has not run for yet (seed data), in config order.
 * A failing hook fails the step with its output tail; the runner then undoes the start like any
 * failed step. Its own effect cannot be undone (a migration stays applied); nothing to undo.
 */
export const composeAfterUpStep = defineStep({
  description: 'run the after-up hooks (migrations) and the fresh-volume hooks (seed data, once per new volume)',
  effect: 'write',
  flags: {
    ...hookFlags,
    // Declared alike by gate.wait: with it, `up` starts the containers and returns — no gate, and
    // no hooks (they need the stack ready); a fresh volume's hooks wait for the next `up`.
    'no-wait': flag.boolean('start the containers but skip the startability gate (and the hooks, which need it)'),
  },
  config: hooksSection,
  outputs: [hooksOutput],
  plan: (ctx) => {
    const names = ctx.settings.filter((hook) => hook.when !== 'before-down').map((hook) => hook.name)
    return names.length === 0 ? 'no after-up hooks' : `run hooks ${names.join(', ')}`
  },
  async run(ctx) {
    const hooks = ctx.settings.filter((hook) => hook.when === 'after-up' || hook.when === 'fresh-volume')
    if (hooks.length === 0) return
    if (ctx.flags['no-hooks']) {
      ctx.log.info(`hooks: skipped (--no-hooks): ${hooks.map((hook) => hook.name).join(', ')}`)
      return
    }
    const session = await composeSession(ctx, 'compose.afterUp')
    const stateFile = hookStateFile(session.instance.path)
    // Volumes compose.up found already there; without it in the pipeline, only the record counts.
    const before = composeState(ctx)?.volumesBefore
    if (ctx.flags['no-wait']) {
      // The fresh-volume hooks of volumes this up created stay due: the next `up` runs them.
      for (const hook of hooks.filter((h) => h.when === 'fresh-volume')) {
        const volume = await findProjectVolume(session.project, hook.volume!, hook.name)
        if (before !== undefined && !before.includes(volume)) await recordHook(stateFile, hook.name, volume, 'pending')
      }
      ctx.log.info(
        `hooks: skipped with --no-wait (${hooks.map((hook) => hook.name).join(', ')}); the next up runs them`,
      )
      return
    }
    const runs: HookRun[] = []
    ctx.output.hooks = runs
    for (const hook of hooks) {
      let volume: string | undefined
      if (hook.when === 'fresh-volume') {
        volume = await findProjectVolume(session.project, hook.volume!, hook.name)
        const createdNow = before !== undefined && !before.includes(volume)
        if (!isFresh(await readHookState(stateFile), hook.name, volume, createdNow)) {
          runs.push(skipped(hook, `volume ${volume} is not fresh (it was there before this up)`, volume))
          ctx.log.info(`hook ${hook.name}: skipped, volume ${volume} is not fresh`)
          continue
        }
        await recordHook(stateFile, hook.name, volume, 'pending')
      }
      const record = await runRecorded(runs, () => runHook(session, hook, ctx))
      if (volume) {
        record.volume = volume
        await recordHook(stateFile, hook.name, volume, 'done')
      }
      ctx.log.info(`hook ${hook.name}: passed in ${record.durationMs} ms`)
    }
  },
})

/**
 * `compose.beforeDown`: before `sandbox down` / `local-prod down` stops the stack, every
 * `before-down` hook (a dump), in the running containers. A hook whose service is not running is
 * skipped (nothing to dump from); one that fails stops the `down` (exit 1) with its output tail —
 * `--no-hooks` stops without them.
 */
export const composeBeforeDownStep = defineStep({
  description: 'run the before-down hooks (e.g. a dump) in the running stack',
  effect: 'write',
  flags: hookFlags,
  config: hooksSection,
  outputs: [hooksOutput],
  plan: (ctx) => {
    const names = ctx.settings.filter((hook) => hook.when === 'before-down').map((hook) => hook.name)
    return names.length === 0 ? 'no before-down hooks' : `run hooks ${names.join(', ')}`
  },
  async run(ctx) {
    const hooks = ctx.settings.filter((hook) => hook.when === 'before-down')
    if (hooks.length === 0) return
    if (ctx.flags['no-hooks']) {
      ctx.log.info(`hooks: skipped (--no-hooks): ${hooks.map((hook) => hook.name).join(', ')}`)
      return
    }
    const session = await composeSession(ctx, 'compose.beforeDown')
    assertFilesExist(session.files)
    const runs: HookRun[] = []
    ctx.output.hooks = runs
    const containers = await projectContainers(session.project)
    for (const hook of hooks) {
      const notReady = serviceNotReady(containers, hook.service)
      if (notReady) {
        runs.push(skipped(hook, notReady))
        ctx.log.warn(`hook ${hook.name}: skipped: ${notReady}`)
        continue
      }
      const record = await runRecorded(runs, () =>
        runHook(session, { ...hook, after: [], waitFor: [] }, ctx).catch((error: unknown) => {
          if (error instanceof OperationError && error.code === 'E_HOOK') {
            throw new OperationError(error.message, {
              code: 'E_HOOK',
              hint: `the stack is still running; fix the hook, or stop without hooks: berth ${ctx.instance?.kind === 'local-prod' ? 'local-prod' : 'sandbox'} down --no-hooks`,
              details: error.details,
            })
          }
          throw error
        }),
      )
      ctx.log.info(`hook ${hook.name}: passed in ${record.durationMs} ms`)
    }
  },
})

/** Runs a hook, keeping its record in `runs` whether it passes or fails (for the evidence bundle). */
async function runRecorded(runs: HookRun[], run: () => Promise<HookRun>): Promise<HookRun> {
  try {
    const record = await run()
    runs.push(record)
    return record
  } catch (error) {
    const record = (error as { details?: { hook?: HookRun } }).details?.hook
    if (record) runs.push(record)
    throw error
  }
}

function skipped(hook: HookConfig, reason: string, volume?: string): HookRun {
  return {
    name: hook.name,
    when: hook.when,
    service: hook.service,
    mode: hook.mode,
    status: 'skipped',
    exitCode: null,
    durationMs: 0,
    reason,
    ...(volume ? { volume } : {}),
    output: '',
  }
}
