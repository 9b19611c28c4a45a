import { definePlugin, type Plugin, readSection, type TaskContext } from '@berth/contract'
import { loadSecrets } from './load.js'
import { opSignedIn } from './op-signin.js'
import { registerInstanceSecrets } from './redaction.js'
import { secretsReport } from './report.js'
import { parseSecretsConfig, type SecretsConfig, secretsConfigSchema } from './schema.js'

export const SECRETS_VERSION = '0.1.0'

export interface SecretsPluginOptions {
  /**
   * Environment the `op` CLI runs with (its PATH is where `op` is found; its HOME expands `~`).
   * Default: `process.env` at the time the step runs.
   */
  env?: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv)
}

/** What `secrets.load` remembers for its undo: the variables it set and what they held before. */
interface SecretsState {
  previous: Record<string, string | undefined>
}

/**
 * `berth:secrets` — loads secrets (1Password `op`, an env file outside the repository, or none)
 * into `ctx.secretEnv`, which the compose step passes as the compose process's environment only.
 * Values are registered with `ctx.redactor`; `ctx.output.secrets` carries names, never values.
 * The `redactSecrets` service registers the instance's secrets for commands that only show output.
 */
export function secretsPlugin(options: SecretsPluginOptions = {}): Plugin {
  const envOf = () => (typeof options.env === 'function' ? options.env() : (options.env ?? process.env))
  return definePlugin({
    name: 'berth:secrets',
    version: SECRETS_VERSION,
    config: { secrets: secretsConfigSchema },
    services(ctx) {
      // Once per instance and command: a later call (another compose step) costs nothing.
      const registered = new Map<string, Promise<void>>()
      return {
        redactSecrets: () => {
          const key = ctx.instance?.id ?? ''
          let pending = registered.get(key)
          if (!pending) {
            pending = Promise.resolve()
              .then(() =>
                registerInstanceSecrets(ctx, {
                  config: sectionOf(ctx),
                  env: envOf(),
                  providerLoaded: ctx.state.secrets !== undefined,
                  forbiddenRoots: forbiddenRoots(ctx),
                }),
              )
              .catch((error: unknown) => ctx.log.debug(`secrets: redaction: ${(error as Error).message}`))
            registered.set(key, pending)
          }
          return pending
        },
      }
    },
    async diagnose(ctx) {
      const config = sectionOf(ctx)
      if (config.provider !== '1password') {
        return [{ check: 'secrets', status: 'ok', detail: `provider ${config.provider}` }]
      }
      const status = await opSignedIn({ env: envOf(), timeoutMs: config.timeout * 1000, account: config.account })
      if (status.signedIn) return [{ check: 'op (1Password)', status: 'ok', detail: `signed in (${status.opPath})` }]
      return [
        {
          check: 'op (1Password)',
          status: 'warn',
          detail: `${status.reason}; sandboxes fall back to the config's insecure defaults, local-prod refuses to start`,
          hint: status.installed ? 'run: op signin' : 'install the 1Password CLI (op) and sign in',
        },
      ]
    },
    steps: {
      load: {
        description: 'loads the configured secrets into the environment of the compose process (never to disk)',
        async run(ctx) {
          const config = sectionOf(ctx)
          const loaded = await loadSecrets(config, {
            noSecrets: noSecretsFlag(ctx.args.flags),
            kind: ctx.instance?.kind ?? ctx.request.kind,
            env: envOf(),
            redactor: ctx.redactor,
            log: ctx.log,
            signal: ctx.signal,
            baseDir: ctx.config.root,
            forbiddenRoots: forbiddenRoots(ctx),
          })
          const previous: Record<string, string | undefined> = {}
          for (const [name, value] of Object.entries(loaded.values)) {
            previous[name] = ctx.secretEnv[name]
            ctx.secretEnv[name] = value
          }
          ctx.state.secrets = { previous } satisfies SecretsState
          ctx.output.secrets = secretsReport(loaded)
        },
        undo(ctx) {
          const state = ctx.state.secrets as SecretsState | undefined
          if (state === undefined) return
          for (const [name, value] of Object.entries(state.previous)) {
            if (value === undefined) delete ctx.secretEnv[name]
            else ctx.secretEnv[name] = value
          }
          delete ctx.state.secrets
          delete ctx.output.secrets
        },
      },
    },
  })
}

/**
 * The resolved section. The runner has normally parsed it already; parsing again is idempotent and
 * covers an absent section or a runner that hands over the user's form.
 */
function sectionOf(ctx: TaskContext): SecretsConfig {
  return parseSecretsConfig(readSection(ctx, 'secrets', secretsConfigSchema))
}

/** `--no-secrets` as the CLI may hand it over: `{ 'no-secrets': true }` or `{ secrets: false }`. */
function noSecretsFlag(flags: TaskContext['args']['flags']): boolean {
  const flag = flags['no-secrets']
  return flag === true || flag === 'true' || flags.secrets === false || flags.secrets === 'false'
}

function forbiddenRoots(ctx: TaskContext): string[] {
  const roots = [ctx.config.root, ctx.repo?.root, ctx.repo?.checkout, ctx.instance?.path, ctx.instance?.repo]
  return [...new Set(roots.filter((root): root is string => typeof root === 'string' && root !== ''))]
}
