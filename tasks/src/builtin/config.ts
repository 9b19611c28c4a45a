import { defineOutput, definePlugin, defineStep, lazySchema, type Plugin, pluginKey } from '@berth/contract'
import * as z from 'zod'
import { configJsonSchema } from '../config/load.js'
import { runnerState } from '../runner-state.js'

const configOutput = defineOutput(
  'config',
  lazySchema(() => z.record(z.string(), z.unknown())),
  {
    description: 'the resolved config: project, file, every section with defaults, the plugins and pipelines',
    render: (config) => [JSON.stringify(config, null, 2)],
  },
)

const schemaOutput = defineOutput(
  'schema',
  lazySchema(() => z.record(z.string(), z.unknown())),
  {
    description: "the config file's JSON Schema (printed as the whole document, with or without --json)",
    render: (schema) => [JSON.stringify(schema, null, 2)],
  },
)

/** `berth:config` — `berth config show` and `berth config schema`. */
export function configPlugin(): Plugin {
  return definePlugin({
    name: 'berth:config',
    version: '0.1.0',
    steps: {
      show: defineStep({
        description: 'prints the resolved config with defaults and presets filled in',
        outputs: [configOutput],
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
      }),
      schema: defineStep({
        description: 'prints the JSON Schema of the config file',
        outputs: [schemaOutput],
        run(ctx) {
          ctx.output.schema = configJsonSchema(runnerState.get(ctx)!.plugins)
        },
      }),
    },
  })
}
