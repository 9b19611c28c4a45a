import { definePlugin, type Plugin, pluginKey } from '@berth/contract'
import { configJsonSchema } from '../config/load.js'

/** What the runner hands its own steps: the loaded plugins and the resolved pipelines. */
export interface RunnerState {
  plugins: Plugin[]
  pipelines: Record<string, string[]>
}

/** `berth:config` — `berth config show` and `berth config schema`. */
export function configPlugin(): Plugin {
  return definePlugin({
    name: 'berth:config',
    version: '0.1.0',
    steps: {
      show: {
        description: 'prints the resolved config with defaults and presets filled in',
        run(ctx) {
          const runner = ctx.state.runner as RunnerState
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
          ctx.output.schema = configJsonSchema((ctx.state.runner as RunnerState).plugins)
        },
      },
    },
  })
}
