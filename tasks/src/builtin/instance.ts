import { basename } from 'node:path'
import {
  definePlugin,
  EnvironmentError,
  type InstanceKind,
  instanceIdFor,
  type Plugin,
  UsageError,
  validateName,
} from '@berth/contract'

/**
 * `berth:instance` — turns the checkout around the cwd into an instance to register
 * (`sandbox init`, `local-prod init`). Worktree-created instances are planned by the worktree plugin.
 */
export function instancePlugin(): Plugin {
  return definePlugin({
    name: 'berth:instance',
    version: '0.1.0',
    steps: {
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
            ctx.request.name ? validateName(ctx.request.name, '--name') : basename(ctx.repo.checkout),
          )
          if (!id)
            throw new UsageError(`cannot derive an instance id from ${ctx.repo.checkout}`, { hint: 'pass --name NAME' })
          validateName(id, 'instance id')
          ctx.instance = {
            id,
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
