import { definePlugin, defineStep, type Plugin } from '@berth/contract'
import { berthVersion } from '../version.js'

/**
 * `berth:mcp` — `berth mcp`: berth's commands as Model Context Protocol tools over stdio, for
 * coding agents. Each tool call runs the real CLI with `--json` (same documents, same exit codes).
 */
export function mcpPlugin(): Plugin {
  return definePlugin({
    name: 'berth:mcp',
    version: '0.1.0',
    steps: {
      serve: defineStep({
        description:
          "serves berth's tools (impl, list, status, url, logs, up, gate, test_e2e, evidence, done) over stdio",
        async run(ctx) {
          ctx.log.info('berth mcp: serving on stdio (close stdin to stop)')
          // Loaded here: every other command builds this plugin without serving it.
          const { serveMcp } = await import('../mcp/server.js')
          await serveMcp({
            cwd: ctx.cwd,
            version: berthVersion(),
            cli: [process.execPath, process.argv[1]!],
            signal: ctx.signal,
          })
        },
      }),
    },
  })
}
