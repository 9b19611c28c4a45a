import { defineSection, lazySchema } from '@berth/contract'
import * as z from 'zod'

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * When a hook runs:
 * - `after-up`: after every `compose up` (impl, sandbox up, local-prod up), before the gate —
 *   migrations, so the checks that need the schema find it;
 * - `fresh-volume`: after `up` too, but once per fresh data volume (`volume`): seed data, which a
 *   second `up` on the same volume does not load again;
 * - `before-down`: before `sandbox down` / `local-prod down` stops the stack — a dump. (`done` and
 *   `destroy` delete the volumes and run no hooks.)
 */
export const HOOK_MOMENTS = ['after-up', 'fresh-volume', 'before-down'] as const
export type HookMoment = (typeof HOOK_MOMENTS)[number]

/** One lifecycle hook: a command run inside a service of the instance. */
export const hookSchema = lazySchema(() =>
  z
    .strictObject({
      /** Unique; names the hook in progress lines, reports and the evidence bundle. */
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'must be a short name ([A-Za-z0-9._-])'),
      when: z.enum(HOOK_MOMENTS),
      /** The compose service the command runs in. */
      service: z.string().regex(SERVICE, 'must be a compose service name'),
      /**
       * `exec` (default): in the service's running container (`compose exec -T`); `run`: in a
       * one-off container of the service (`compose run --rm -T --no-deps`), e.g. a migration image
       * that is not a long-running service.
       */
      mode: z.enum(['exec', 'run']).default('exec'),
      /** The command: an argv list, or one string run by `sh -c` in the container. */
      command: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]),
      /** For `fresh-volume`: the compose volume (its key under `volumes:`) whose creation triggers the hook. */
      volume: z.string().regex(SERVICE, 'must be a compose volume name').optional(),
      /**
       * Gate checks that must pass before the hook runs (with the checks they wait for), within the
       * gate's deadline: a migration after `db` (a postgres check) accepts the instance's login. When
       * one fails, the gate's own failure is reported (its diagnosis, log tail, next commands).
       */
      after: z.array(z.string().min(1)).default([]),
      /**
       * Compose services that must be running and healthy (when they have a healthcheck) first. An
       * `exec` hook always waits for its own service's container to run.
       */
      waitFor: z.array(z.string().regex(SERVICE, 'must be a compose service name')).default([]),
      /**
       * Variables of the instance (from `.env.sandbox` or its secrets) passed into the command's
       * environment by name (`-e NAME`): values travel in the environment, never in argv. The
       * service's own environment (from the compose file) is there anyway.
       */
      env: z.array(z.string().regex(ENV_NAME, 'must be an environment variable name')).default([]),
      /** Seconds for waiting plus running; the hook fails when they run out. */
      timeout: z.number().positive().default(300),
    })
    .superRefine((hook, ctx) => {
      if (hook.when === 'fresh-volume' && hook.volume === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['volume'],
          message: 'a fresh-volume hook names the volume whose creation triggers it (its key under volumes:)',
        })
      }
      if (hook.when !== 'fresh-volume' && hook.volume !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['volume'], message: 'volume applies to fresh-volume hooks only' })
      }
      if (hook.when === 'before-down' && (hook.after.length > 0 || hook.waitFor.length > 0)) {
        ctx.addIssue({
          code: 'custom',
          path: [hook.after.length > 0 ? 'after' : 'waitFor'],
          message:
            'before-down hooks run in the stack as it is (a service that is not running is skipped): no after or waitFor',
        })
      }
      if (hook.when === 'before-down' && hook.mode === 'run') {
        ctx.addIssue({
          code: 'custom',
          path: ['mode'],
          message:
            'before-down hooks run in the running stack (mode "exec"): down loads no secrets, so a one-off container would not get them',
        })
      }
    }),
)

/** The `hooks` config section: a list, run in order within each moment. */
export const hooksConfigSchema = lazySchema(() =>
  z
    .array(hookSchema)
    .superRefine((hooks, ctx) => {
      const seen = new Map<string, number>()
      hooks.forEach((hook, index) => {
        const first = seen.get(hook.name)
        if (first !== undefined) {
          ctx.addIssue({
            code: 'custom',
            path: [index, 'name'],
            message: `duplicate hook name "${hook.name}" (also hooks[${first}])`,
          })
        } else seen.set(hook.name, index)
      })
    })
    .default([]),
)

export type HookConfig = z.output<typeof hookSchema>
export type HookConfigInput = z.input<typeof hookSchema>
export type HooksConfig = z.output<typeof hooksConfigSchema>

export const hooksSection = defineSection('hooks', hooksConfigSchema)
