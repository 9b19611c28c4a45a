import { composeProjectName, type Logger, type Redactor, type TaskContext } from '@berth/contract'
import { engineRequest, projectContainerList } from '@berth/engine'
import { loadSecrets } from './load.js'
import type { SecretsConfig } from './schema.js'

export interface InstanceSecretsOptions {
  config: SecretsConfig
  /** Environment `op` runs with. */
  env: NodeJS.ProcessEnv
  /** The provider's values were already loaded in this run (`secrets.load`): do not ask again. */
  providerLoaded: boolean
  /** env-file: the file must be outside these folders. */
  forbiddenRoots: string[]
}

/**
 * Registers with `ctx.redactor` every secret value of the current instance, for commands that
 * show service or command output without starting anything (`sandbox logs`, `gate`, `evidence`,
 * `down`, `done` …):
 * - what the provider yields now (1Password, the env file, the defaults), read exactly as
 *   `secrets.load` reads it but quietly: a signed-out `op` or a missing file only means the
 *   defaults, and nothing is ever written anywhere;
 * - what the instance's containers were started with, read from the engine for every variable the
 *   config names as a secret — a value rotated since `up`, or real secrets a stack got while the
 *   provider is now unreachable, are still redacted.
 * Never throws: output is still redacted as well as it can be, and the command goes on.
 */
export async function registerInstanceSecrets(ctx: TaskContext, options: InstanceSecretsOptions): Promise<void> {
  const names = new Set<string>([...Object.values(options.config.fields), ...Object.keys(options.config.defaults)])
  for (const value of Object.values(options.config.defaults)) ctx.redactor.add(value)
  for (const value of Object.values(ctx.secretEnv)) ctx.redactor.add(value)
  if (!options.providerLoaded && options.config.provider !== 'none') {
    try {
      const loaded = await loadSecrets(options.config, {
        kind: ctx.instance?.kind ?? ctx.request.kind,
        env: options.env,
        redactor: ctx.redactor,
        log: debugOnly(ctx.log),
        signal: ctx.signal,
        baseDir: ctx.config.root,
        forbiddenRoots: options.forbiddenRoots,
      })
      for (const name of Object.keys(loaded.values)) names.add(name)
    } catch (error) {
      ctx.log.debug(`secrets: could not load the provider's values for redaction: ${(error as Error).message}`)
    }
  }
  if (ctx.instance && names.size > 0) {
    try {
      await learnContainerSecrets(composeProjectName(ctx.instance.id), names, ctx.redactor)
    } catch (error) {
      ctx.log.debug(`secrets: could not read the containers' secrets for redaction: ${(error as Error).message}`)
    }
  }
}

/**
 * Adds to `redactor` the value every container of `project` holds for a variable in `names`
 * (one list request, one inspect per container). Returns how many new values were added.
 */
export async function learnContainerSecrets(project: string, names: Set<string>, redactor: Redactor): Promise<number> {
  const before = redactor.size
  const containers = await projectContainerList(project)
  const answers = await Promise.all(
    containers.map((container) =>
      engineRequest<{ Config?: { Env?: string[] | null } }>(
        `/containers/${encodeURIComponent(container.Id)}/json`,
      ).catch(() => undefined),
    ),
  )
  for (const answer of answers) {
    for (const entry of answer?.Config?.Env ?? []) {
      const eq = entry.indexOf('=')
      if (eq > 0 && names.has(entry.slice(0, eq))) redactor.add(entry.slice(eq + 1))
    }
  }
  return redactor.size - before
}

/** The provider's own progress and fallback warnings are noise for a command that only redacts. */
function debugOnly(log: Logger): Logger {
  return { info: (message) => log.debug(message), warn: (message) => log.debug(message), debug: log.debug }
}
