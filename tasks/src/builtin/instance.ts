import { basename } from 'node:path'
import {
  defineOutput,
  definePlugin,
  defineStep,
  EnvironmentError,
  type InstanceKind,
  instanceIdFor,
  instanceLabel,
  instanceRecordSchema,
  lazySchema,
  type Plugin,
  table,
  UsageError,
  validateName,
} from '@berth/contract'
import * as z from 'zod'
import { urlSection } from './env.js'

/** `12s`, `5m`, `3h`, `2d`. */
function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`
  return `${Math.round(seconds / 86400)}d`
}

/** `output.instances` of `sandbox list`: each registered instance with its stack's state. */
export const instanceRowsOutput = defineOutput(
  'instances',
  lazySchema(() =>
    z.array(
      instanceRecordSchema.extend({
        /** The compose project's state (`running`, `partial`, `stopped`, `absent`), `no-stack` for a spec. */
        state: z.string(),
        running: z.number().int(),
        total: z.number().int(),
        /** The host port of the API (the `url` section's portVar), null without a slot. */
        apiPort: z.number().int().nullable(),
        ageSeconds: z.number().int(),
        /** The slot profile it runs (its recorded one, else the config's default); absent: the stack as written. */
        profile: z.string().optional(),
      }),
    ),
  ),
  {
    description: "this project's instances: slot, stack state, running/total containers, API port, age",
    render: (rows) =>
      rows.length === 0
        ? ['no instances registered']
        : table([
            ['INSTANCE', 'KIND', 'SLOT', 'PROFILE', 'STATE', 'CONTAINERS', 'API', 'AGE'],
            ...rows.map((r) => [
              instanceLabel(r),
              r.kind,
              r.slot === null ? '-' : String(r.slot),
              r.profile ?? '-',
              r.state,
              `${r.running}/${r.total}`,
              r.apiPort ? `http://127.0.0.1:${r.apiPort}` : '-',
              age(r.ageSeconds),
            ]),
          ]),
  },
)

/**
 * `berth:instance` — turns the checkout around the cwd into an instance to register
 * (`sandbox init`, `local-prod init`). Worktree-created instances are planned by the worktree plugin.
 */
export function instancePlugin(): Plugin {
  return definePlugin({
    name: 'berth:instance',
    version: '0.1.0',
    steps: {
      summary: defineStep({
        description: 'joins registered instances with their compose state, API port and age (sandbox list)',
        config: urlSection,
        // slotPorts (a claim without recorded ports) reads the compose file's published ports and maxSlot.
        uses: [
          'listInstances',
          'instanceStates',
          'instanceProfile',
          'defaultSlotPorts',
          'slotPorts',
          'publishedHostPorts',
          'maxSlot',
        ],
        outputs: [instanceRowsOutput],
        async run(ctx) {
          const instances = (await ctx.services.listInstances?.()) ?? []
          const compose = (await ctx.services.instanceStates?.()) ?? {}
          const portVar = ctx.settings.portVar
          const now = Date.now()
          ctx.output.instances = instances.map((instance) => {
            const state = compose[instance.id]
            const apiPort =
              instance.slot === null
                ? null
                : instance.ports
                  ? (instance.ports[portVar] ?? null)
                  : (ctx.services.slotPorts?.(instance.slot)[portVar] ?? null)
            const profile = instance.slot === null ? undefined : ctx.services.instanceProfile?.(instance)?.name
            const { profile: _recorded, ...record } = instance
            return {
              ...record,
              ...(profile ? { profile } : {}),
              state: state?.state ?? (instance.slot === null ? 'no-stack' : 'absent'),
              running: state?.running ?? 0,
              total: state?.total ?? 0,
              apiPort,
              ageSeconds: Math.max(0, Math.round((now - Date.parse(instance.createdAt)) / 1000)),
            }
          })
        },
      }),
      detect: {
        description: 'takes the clone or worktree around the cwd as the instance (id from --name or the folder)',
        run(ctx) {
          if (!ctx.repo) {
            throw new EnvironmentError(`${ctx.cwd} is not inside a git repository`, {
              code: 'E_NO_REPO',
              hint: 'run berth inside a clone or worktree of your project (or pass --cwd DIR)',
            })
          }
          const kind: InstanceKind = ctx.request.kind ?? 'sandbox'
          if (kind === 'local-prod' && ctx.repo.isWorktree) {
            throw new UsageError(`local-prod must be a clone, but ${ctx.repo.checkout} is a git worktree`, {
              hint: 'clone the repository into its own folder (git clone …) and run local-prod init there',
            })
          }
          const id = instanceIdFor(
            ctx.request.name !== undefined ? validateName(ctx.request.name, '--name') : basename(ctx.repo.checkout),
          )
          if (!id)
            throw new UsageError(`cannot derive an instance id from ${ctx.repo.checkout}`, { hint: 'pass --name NAME' })
          validateName(id, 'instance id')
          ctx.instance = {
            id,
            ...(ctx.request.name !== undefined ? { name: ctx.request.name } : {}),
            project: ctx.config.project,
            kind,
            slot: null,
            path: ctx.repo.checkout,
            repo: ctx.repo.root,
            createdByBerth: false,
            createdAt: new Date().toISOString(),
          }
        },
      },
    },
  })
}
