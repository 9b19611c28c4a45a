import { basename } from 'node:path'
import {
  definePlugin,
  EnvironmentError,
  type InstanceKind,
  type InstanceRecord,
  instanceIdFor,
  type Plugin,
  readSection,
  UsageError,
  validateName,
} from '@berth/contract'

import { urlConfigSchema } from './env.js'

interface ComposeSummary {
  state: string
  running: number
  total: number
}

/**
 * `berth:instance` — turns the checkout around the cwd into an instance to register
 * (`sandbox init`, `local-prod init`). Worktree-created instances are planned by the worktree plugin.
 */
export function instancePlugin(): Plugin {
  return definePlugin({
    name: 'berth:instance',
    version: '0.1.0',
    steps: {
      summary: {
        description: 'joins registered instances with their compose state, API port and age (sandbox list)',
        run(ctx) {
          const instances = (ctx.output.instances as InstanceRecord[] | undefined) ?? []
          const compose =
            (ctx.output.compose as { instances?: Record<string, ComposeSummary> } | undefined)?.instances ?? {}
          const portVar = readSection(ctx, 'url', urlConfigSchema).portVar
          const now = Date.now()
          ctx.output.instances = instances.map((instance) => {
            const state = compose[instance.id]
            const apiPort =
              instance.slot === null
                ? null
                : (instance.ports?.[portVar] ?? ctx.services.slotPorts?.(instance.slot)[portVar] ?? null)
            return {
              ...instance,
              state: state?.state ?? (instance.slot === null ? 'no-stack' : 'absent'),
              running: state?.running ?? 0,
              total: state?.total ?? 0,
              apiPort,
              ageSeconds: Math.max(0, Math.round((now - Date.parse(instance.createdAt)) / 1000)),
            }
          })
        },
      },
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
