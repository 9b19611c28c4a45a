import {
  type BerthServices,
  defineSection,
  defineState,
  defineStep,
  flag,
  type Plugin,
  type Step,
  type TaskContext,
  UsageError,
} from '@berth/contract'
import { initShared, removeCreated } from './init.js'
import { type InitSharedReport, initSharedOutput, sharedStatusOutput } from './outputs.js'
import { sharedDirs, sharedEnv } from './paths.js'
import { sharedDataSchema } from './schema.js'
import { sharedStatus } from './status.js'
import { formatBytes } from './usage.js'
import { SHARED_VERSION } from './version.js'

/** The `sharedData` section: folders under `$BERTH_HOME/shared/` and their `.env.sandbox` variables. */
export const sharedDataSection = defineSection('sharedData', sharedDataSchema)

/** What `shared.init` made, for its undo. */
const initReport = defineState<InitSharedReport>('shared.init')

/** The plugin with its step names and services known to the type checker. */
export interface SharedPlugin extends Plugin {
  steps: { init: Step; status: Step }
  services(ctx: TaskContext): BerthServices
}

export const sharedInitStep = defineStep({
  description: 'create $BERTH_HOME/shared/<dirs>: --from DIR|TARBALL copies them, otherwise empty',
  effect: 'write',
  flags: {
    from: flag.string('copy the shared data from this folder or tarball', { value: 'DIR|TARBALL' }),
    minimal: flag.boolean('create the empty folders only'),
  },
  config: sharedDataSection,
  outputs: [initSharedOutput],
  plan(ctx) {
    const dirs = sharedDirs(ctx.home, ctx.settings).map((dir) => dir.path)
    const from = ctx.flags.from
    return `create ${dirs.join(', ') || '(no folders configured)'}${from !== undefined ? ` from ${from}` : ' (empty)'}`
  },
  async run(ctx) {
    const { from, minimal } = ctx.flags
    if (from !== undefined && minimal) {
      throw new UsageError('--from and --minimal exclude each other', {
        hint: '--minimal creates empty folders; --from copies data into them',
      })
    }
    const report = await initShared({ home: ctx.home, config: ctx.settings, from, cwd: ctx.cwd })
    initReport.set(ctx, report)
    ctx.output.shared = report
    for (const dir of report.dirs) {
      ctx.log.info(`${dir.action} ${dir.path} (${dir.env}; ${dir.files} files, ${formatBytes(dir.bytes)})`)
    }
    if (report.missing.length > 0) ctx.log.warn(`the source has no ${report.missing.join(', ')}: created empty`)
    if (report.ignored.length > 0) ctx.log.info(`not copied (not a shared folder): ${report.ignored.join(', ')}`)
  },
  async undo(ctx) {
    const report = initReport.get(ctx)
    if (report) await removeCreated(report.created)
  },
})

export const sharedStatusStep = defineStep({
  description: 'shared folders: path, size, file count and which instances mount them',
  config: sharedDataSection,
  outputs: [sharedStatusOutput],
  async run(ctx) {
    const instances = (await ctx.services.listInstances?.()) ?? []
    const report = await sharedStatus(ctx.home, ctx.settings, instances)
    ctx.output.shared = report
    if (report.dirs.length === 0) ctx.log.info('no shared folders are configured (sharedData.dirs)')
    for (const entry of report.outdated) {
      ctx.log.warn(
        `${entry.id}: .env.sandbox lacks ${entry.missing.join(', ')} (written before sharedData was configured); delete it and run 'berth doctor --fix' to rewrite it`,
      )
    }
  },
})

/**
 * `berth:shared`: folders under `$BERTH_HOME/shared/` every instance mounts. `shared.init` creates
 * them (from a folder, a tarball, or empty), `shared.status` shows their size and users, and the
 * `instanceEnv` service puts their host paths into each instance's `.env.sandbox`.
 */
export function sharedPlugin(): SharedPlugin {
  return {
    name: 'berth:shared',
    version: SHARED_VERSION,
    sections: [sharedDataSection],
    services: (ctx) => ({
      instanceEnv: () => sharedEnv(ctx.home, sharedDataSection.read(ctx)),
    }),
    steps: { init: sharedInitStep, status: sharedStatusStep },
  }
}
