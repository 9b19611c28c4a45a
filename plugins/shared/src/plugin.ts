import type { BerthServices, Plugin, Step, TaskContext } from '@berth/contract'
import { UsageError } from '@berth/contract'
import { type InitSharedReport, initShared, removeCreated } from './init.js'
import { sharedDirs, sharedEnv } from './paths.js'
import { type SharedDataConfig, sharedDataSchema } from './schema.js'
import { formatBytes, sharedStatus } from './status.js'
import { SHARED_VERSION } from './version.js'

/** The plugin with its step names and services known to the type checker. */
export interface SharedPlugin extends Plugin {
  steps: { init: Step; status: Step }
  services(ctx: TaskContext): BerthServices
}

/** The resolved `sharedData` section (parsed again so a missing section still works). */
export function sharedSettings(ctx: TaskContext): SharedDataConfig {
  return sharedDataSchema.parse(ctx.config.sections.sharedData)
}

/**
 * `berth:shared`: folders under `$BERTH_HOME/shared/` every instance mounts. `shared.init` creates
 * them (from a folder, a tarball, or empty), `shared.status` shows their size and users, and the
 * `instanceEnv` service puts their host paths into each instance's `.env.sandbox`.
 */
export function sharedPlugin(): SharedPlugin {
  return {
    name: 'berth:shared',
    version: SHARED_VERSION,
    config: { sharedData: sharedDataSchema },
    services: (ctx) => ({
      instanceEnv: () => sharedEnv(ctx.home, sharedSettings(ctx)),
    }),
    steps: {
      init: {
        description: 'create $BERTH_HOME/shared/<dirs>: --from DIR|TARBALL copies them, otherwise empty',
        effect: 'write',
        plan(ctx) {
          const dirs = sharedDirs(ctx.home, sharedSettings(ctx)).map((dir) => dir.path)
          const from = ctx.args.flags.from
          return `create ${dirs.join(', ') || '(no folders configured)'}${typeof from === 'string' ? ` from ${from}` : ' (empty)'}`
        },
        async run(ctx) {
          const from = ctx.args.flags.from
          if (from !== undefined && typeof from !== 'string') throw new UsageError('--from needs a folder or tarball')
          if (typeof from === 'string' && ctx.args.flags.minimal === true) {
            throw new UsageError('--from and --minimal exclude each other', {
              hint: '--minimal creates empty folders; --from copies data into them',
            })
          }
          const report = await initShared({ home: ctx.home, config: sharedSettings(ctx), from, cwd: ctx.cwd })
          ctx.state.shared = report
          ctx.output.shared = report
          for (const dir of report.dirs) {
            ctx.log.info(`${dir.action} ${dir.path} (${dir.env}; ${dir.files} files, ${formatBytes(dir.bytes)})`)
          }
          if (report.missing.length > 0) ctx.log.warn(`the source has no ${report.missing.join(', ')}: created empty`)
          if (report.ignored.length > 0) ctx.log.info(`not copied (not a shared folder): ${report.ignored.join(', ')}`)
        },
        async undo(ctx) {
          const report = ctx.state.shared as InitSharedReport | undefined
          if (report) await removeCreated(report.created)
        },
      },
      status: {
        description: 'shared folders: path, size, file count and which instances mount them',
        async run(ctx) {
          const instances = (await ctx.services.listInstances?.()) ?? []
          const report = await sharedStatus(ctx.home, sharedSettings(ctx), instances)
          ctx.output.shared = report
          if (report.dirs.length === 0) ctx.log.info('no shared folders are configured (sharedData.dirs)')
          for (const entry of report.outdated) {
            ctx.log.warn(
              `${entry.id}: .env.sandbox lacks ${entry.missing.join(', ')} (written before sharedData was configured); delete it and run 'berth doctor --fix' to rewrite it`,
            )
          }
        },
      },
    },
  }
}
