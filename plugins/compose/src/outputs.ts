import { colour, defineOutput, lazySchema, table } from '@berth/contract'
import * as z from 'zod'

const projectState = lazySchema(() => z.enum(['running', 'partial', 'stopped', 'absent']))
export type ProjectState = z.infer<typeof projectState>

/** One orphan compose project: labelled like this project's instances but registered nowhere. */
export const orphanProjectSchema = lazySchema(() =>
  z.object({
    project: z.string(),
    containers: z.number().int(),
    running: z.number().int(),
    volumes: z.array(z.string()),
    services: z.array(z.string()),
  }),
)
export type OrphanProject = z.infer<typeof orphanProjectSchema>

/** The compose state of one registered instance (`sandbox list`). */
export const instanceComposeSummarySchema = lazySchema(() =>
  z.object({
    project: z.string(),
    state: projectState,
    running: z.number().int(),
    total: z.number().int(),
    services: z.array(z.string()),
  }),
)
export type InstanceComposeSummary = z.infer<typeof instanceComposeSummarySchema>

/**
 * `output.compose`: what the compose step of the command did to the project — `up` (flavour and
 * files), `down` (volumes removed?), `destroy` (what the engine sweep removed), `status`, `list`
 * (every instance's state and the orphan projects).
 */
export const composeOutput = defineOutput(
  'compose',
  lazySchema(() =>
    z.object({
      project: z.string().optional(),
      flavour: z.enum(['v1', 'v2']).optional(),
      files: z.array(z.string()).optional(),
      volumesRemoved: z.boolean().optional(),
      leftoversRemoved: z
        .object({ containers: z.array(z.string()), volumes: z.array(z.string()), networks: z.array(z.string()) })
        .optional(),
      /** Images tagged for this instance (compose.render.instanceImages) that done/destroy removed. */
      imagesRemoved: z.array(z.string()).optional(),
      instances: z.record(z.string(), instanceComposeSummarySchema).optional(),
      /** null when no registry could be asked (every project would look orphaned). */
      orphans: z.array(orphanProjectSchema).nullable().optional(),
    }),
  ),
  {
    description: 'what the compose step did: the project, its flavour and files, or every instance and the orphans',
    render: (compose) =>
      (compose.orphans ?? []).map(
        (orphan) =>
          `${colour.yellow('orphan')} compose project ${orphan.project} is not registered (see 'berth doctor')`,
      ),
  },
)

const publishedPortSchema = lazySchema(() =>
  z.object({ host: z.number().int(), hostIp: z.string(), container: z.number().int() }),
)
export type PublishedPort = z.infer<typeof publishedPortSchema>

/** One service container as `compose.status` reports it. */
const containerStatusSchema = lazySchema(() =>
  z.object({
    service: z.string(),
    name: z.string(),
    /** The engine's state: `running`, `exited`, `created`, `restarting`… */
    state: z.string(),
    /** From the healthcheck, or null when the service has none. */
    health: z.enum(['healthy', 'unhealthy', 'starting']).nullable(),
    ports: z.array(publishedPortSchema),
  }),
)
export type ContainerStatus = z.infer<typeof containerStatusSchema>

/** `output.state`: the project as a whole (`status`). */
export const stateOutput = defineOutput('state', projectState, {
  description: 'the compose project as a whole: running, partial, stopped or absent',
})

/** `output.containers`: the service containers with health and published ports (`status`). */
export const containersOutput = defineOutput(
  'containers',
  lazySchema(() => z.array(containerStatusSchema)),
  {
    description: "the instance's service containers: state, health, published ports",
    render: (containers, view) => {
      const state = String(view.output.state ?? 'absent')
      if (containers.length === 0) return [`state: ${state} (no containers)`]
      return [
        `state: ${state}`,
        ...table([
          ['SERVICE', 'STATE', 'HEALTH', 'PORTS'],
          ...containers.map((c) => [
            c.service,
            c.state,
            c.health ?? '-',
            c.ports
              .filter((p) => p.host)
              .map((p) => `${p.hostIp}:${p.host}->${p.container}`)
              .join(', '),
          ]),
        ]).map((line) => `  ${line}`),
      ]
    },
  },
)

const lintProblemSchema = lazySchema(() =>
  z.object({
    file: z.string(),
    line: z.number().int(),
    column: z.number().int(),
    /** `service "api"`, `volume "data"`, `network "edge"`, or '' for the file itself. */
    subject: z.string(),
    rule: z.string(),
    message: z.string(),
    /** `file:line: subject: message`, as printed. */
    text: z.string(),
  }),
)

/** `output.lint`: the compose files' findings (errors stop the command, warnings are logged). */
export const lintOutput = defineOutput(
  'lint',
  lazySchema(() =>
    z.object({
      errors: z.array(lintProblemSchema),
      warnings: z.array(lintProblemSchema),
      skipped: z.boolean().optional(),
    }),
  ),
  { description: 'compose lint: errors (the command stops) and warnings, each at file:line' },
)

/** `output.logs` (`sandbox logs --json`): the services' log text, secrets redacted. */
export const logsOutput = defineOutput(
  'logs',
  lazySchema(() => z.string()),
  {
    description: "the services' logs (with --json), secrets redacted",
  },
)

/** `output.e2e`: what `berth test e2e --json` reports. */
export const e2eOutput = defineOutput(
  'e2e',
  lazySchema(() =>
    z.object({
      service: z.string(),
      /** The test service's exit code (compose's own when it could not start it). */
      exitCode: z.number().int(),
      passed: z.boolean(),
      /** Absolute folder the service's `/artifacts` (or whatever mounts `BERTH_ARTIFACTS_DIR`) wrote to. */
      artifactsDir: z.string(),
      /** Files found there afterwards, relative to `artifactsDir`, sorted. */
      files: z.array(z.string()),
      durationMs: z.number().int(),
    }),
  ),
  {
    description: "the test service's run: exit code, artifacts folder and files",
    render: (e2e) => {
      const verdict = e2e.exitCode === 0 ? colour.green('passed') : colour.red(`failed (exit ${e2e.exitCode})`)
      return [`${e2e.service} ${verdict}, ${e2e.files.length} artifact(s)`]
    },
  },
)
export type E2eReport = z.infer<typeof e2eOutput.schema>
