import { defineOutput, defineStep, EnvironmentError, lazySchema } from '@berth/contract'
import { engineCall } from '@berth/engine'
import * as z from 'zod'
import { renderInstanceCompose, workspaceImage, workspaceSettings } from '../render/instance.js'
import { DEFAULT_WORKSPACE_IMAGE } from '../render/workspace.js'
import { composeSection } from '../schema.js'
import { composeFilesFor, missingFiles, requireInstance } from './context.js'

export const renderReportSchema = lazySchema(() =>
  z.object({
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
  }),
)

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
    const workspace = workspaceSettings(ctx)
    if (workspace && !workspace.dockerfile && ctx.task !== 'compose.config') {
      await assertWorkspaceImage(workspaceImage(ctx, workspace))
    }
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

/**
 * Before the stack starts: berth's default workspace image exists in the engine (it is in no
 * registry, so compose could only fail to pull it). Exit 4 naming the script that builds it. Other
 * images may come from a registry and are left to compose; an engine that does not answer is
 * left to compose too (it says so itself).
 */
export async function assertWorkspaceImage(image: string, required = image === DEFAULT_WORKSPACE_IMAGE): Promise<void> {
  if (!required) return
  const answer = await engineCall(`/images/${encodeURIComponent(image)}/json`).catch(() => undefined)
  if (answer?.statusCode !== 404) return
  throw new EnvironmentError(`the workspace image ${image} is not built`, {
    code: 'E_WORKSPACE_IMAGE',
    hint: "build it with scripts/build-workspace-image.sh (berth's repository; no registry needed), or with a registry: docker build --build-arg BASE_IMAGE=debian:bookworm-slim -t berth-workspace:local plugins/compose/workspace (docs/workspace.md)",
  })
}
