import { definePlugin, type Plugin, pluginKey } from '@berth/contract'
import { configJsonSchema } from '../config/load.js'
import { runnerState } from '../runner-state.js'

/** `berth:config` — `berth config show` and `berth config schema`. */
export function configPlugin(): Plugin {
  return definePlugin({
    name: 'berth:config',
    version: '0.1.0',
    steps: {
      show: {
        description: 'prints the resolved config with defaults and presets filled in',
        run(ctx) {
          const runner = runnerState.get(ctx)!
          const { pipelines: _p, plugins: _pl, ...sections } = ctx.config.sections
          ctx.output.config = {
            project: ctx.config.project,
            file: ctx.config.file,
            root: ctx.config.root,
            ...sections,
            plugins: runner.plugins.map((p) => ({
              name: p.name,
              key: pluginKey(p),
              version: p.version,
              steps: Object.keys(p.steps),
            })),
            pipelines: runner.pipelines,
          }
        },
      },
      schema: {
        description: 'prints the JSON Schema of the config file',
        run(ctx) {
          ctx.output.schema = configJsonSchema(runnerState.get(ctx)!.plugins)
        },
      },
    },
  })
}
