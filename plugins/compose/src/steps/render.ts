import { defineOutput, defineStep } from '@berth/contract'
import { z } from 'zod'
import { renderInstanceCompose } from '../render/instance.js'
import { composeSection } from '../schema.js'
import { composeFilesFor, missingFiles, requireInstance } from './context.js'

export const renderReportSchema = z.object({
  /** False with `compose.render.enabled: false`: compose runs the user's files as they are. */
  enabled: z.boolean(),
  /** The user's compose files (in the instance's checkout). */
  sources: z.array(z.string()),
  /** The rendered file compose runs (`<instance>/.sandbox/compose.yaml`). */
  file: z.string().optional(),
  /** The `--project-directory` compose runs it with: the first user file's folder. */
  projectDirectory: z.string().optional(),
  /** True when the render came from the cache (no compose file changed). */
  cached: z.boolean().optional(),
  changes: z.array(z.object({ subject: z.string(), change: z.string() })),
  warnings: z.array(z.string()),
  ports: z.array(
    z.object({
      service: z.string(),
      written: z.string(),
      rendered: z.string(),
      /** The `.env.sandbox` variables holding the host port(s), when berth mapped it. */
      variables: z.array(z.string()),
    }),
  ),
  /** The rendered file's text (`berth compose config` only). */
  text: z.string().optional(),
})

export type RenderReport = z.infer<typeof renderReportSchema>

export const renderOutput = defineOutput('render', renderReportSchema, {
  description: "the instance's rendered compose file: where it is, what rendering changed, each published port",
  render: (report, view) => {
    if (view.task !== 'compose.config') return []
    if (!report.enabled) {
      return [`rendering is off (compose.render.enabled: false): compose runs ${report.sources.join(', ')} as they are`]
    }
    return (report.text ?? '').replace(/\n$/, '').split('\n')
  },
})

/**
 * `compose.render`: renders the instance's compose files into `.sandbox/compose.yaml` (cached by
 * content) and reports what it changed; every compose command of the instance runs that file.
 * Runs in `stack.up` before `compose.up` so its warnings come before the stack starts, and alone
 * as `berth compose config`.
 */
export const composeRenderStep = defineStep({
  description:
    'render the compose files for this instance: its ports on 127.0.0.1, no container_name, per-instance names, its identity in every service',
  config: composeSection,
  outputs: [renderOutput],
  async run(ctx) {
    const instance = requireInstance(ctx, 'compose.render')
    if (!ctx.settings.render.enabled) {
      const sources = composeFilesFor(ctx, ctx.settings)
      ctx.output.render = { enabled: false, sources, changes: [], warnings: [], ports: [] }
      ctx.log.debug('compose rendering is off (compose.render.enabled: false)')
      return
    }
    // Rendering reads files only: no engine, no compose (compose config works with both away).
    const sources = composeFilesFor(ctx, ctx.settings)
    const missing = missingFiles(sources)
    if (missing.length > 0) {
      ctx.output.render = { enabled: true, sources, changes: [], warnings: [], ports: [] }
      ctx.log.warn(`compose file not found: ${missing.join(', ')} (nothing rendered for ${instance.id})`)
      return
    }
    const render = await renderInstanceCompose(ctx, instance, sources, ctx.settings)
    for (const warning of render.warnings) ctx.log.warn(warning)
    const mapped = render.ports.filter((port) => port.variables.length > 0).length
    ctx.log.info(
      `rendered ${render.file} from ${render.sources.length} file(s): ${mapped} published port(s) on this instance's ports${render.cached ? ' (cached)' : ''}`,
    )
    ctx.output.render = {
      enabled: true,
      sources: render.sources,
      file: render.file,
      projectDirectory: render.projectDir,
      cached: render.cached,
      changes: render.changes,
      warnings: render.warnings,
      ports: render.ports,
      ...(ctx.task === 'compose.config' ? { text: render.text } : {}),
    }
  },
})
