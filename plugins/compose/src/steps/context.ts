import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { engineRequest, type InstanceRecord, type TaskContext, UsageError } from '@berth/contract'
import { detectComposeFlavour } from '../flavour.js'
import { composeEnvironment, composeProjectName, resolveComposeFiles } from '../project.js'
import type { RunComposeOptions } from '../run.js'
import { type ComposeConfig, composeConfigSchema } from '../schema.js'

/** Plugin-private data between `compose.*` steps of one pipeline (`ctx.state.compose`). */
export interface ComposeState {
  project: string
  /** The project had containers or volumes before `compose.up` ran: its undo keeps the volumes. */
  existedBefore: boolean
  /** Engine names of the project's volumes before `compose.up` ran (the others it created). */
  volumesBefore?: string[]
}

/** Everything needed to run compose for the current instance. */
export interface ComposeSession {
  instance: InstanceRecord
  project: string
  files: string[]
  config: ComposeConfig
  options: RunComposeOptions
}

/** The resolved `compose` section (parsed again so a missing or lenient section still works). */
export function composeSettings(ctx: TaskContext): ComposeConfig {
  return composeConfigSchema.parse(ctx.config.sections.compose)
}

export function requireInstance(ctx: TaskContext, step: string): InstanceRecord {
  if (ctx.instance) return ctx.instance
  throw new UsageError(`${step} needs an instance, and this task has none`, {
    hint: 'run it inside a registered worktree or clone (berth sandbox init), or pass the instance name',
  })
}

/** The instance's compose files (inside its own checkout), without checking they exist. */
export function composeFilesFor(ctx: TaskContext, config: ComposeConfig = composeSettings(ctx)): string[] {
  return resolveComposeFiles({
    files: config.files,
    configRoot: ctx.config.root,
    repoRoot: ctx.repo?.root,
    instancePath: ctx.instance?.path,
  })
}

export function missingFiles(files: string[]): string[] {
  return files.filter((file) => !existsSync(file))
}

export function assertFilesExist(files: string[]): void {
  const missing = missingFiles(files)
  if (missing.length === 0) return
  throw new UsageError(`compose file not found: ${missing.join(', ')}`, {
    code: 'E_COMPOSE_FILE',
    hint: 'check compose.files in the berth config (paths are relative to the config file) and that the file is committed, so worktrees have it',
  })
}

/** Resolves instance, project, files, flavour and environment for one compose command. */
export async function composeSession(ctx: TaskContext, step: string): Promise<ComposeSession> {
  const instance = requireInstance(ctx, step)
  const config = composeSettings(ctx)
  const files = composeFilesFor(ctx, config)
  const project = composeProjectName(instance.id)
  // Ask the engine first: compose itself needs a second or more to say it cannot reach it (and
  // v1 says so with a Python traceback), while a ping fails at once with exit 4 and the socket.
  await engineRequest('/_ping')
  // Whatever compose prints (its own errors, `logs`, `run`) is redacted: make sure every secret of
  // this instance is known to the redactor first, not only those this command happened to load.
  await ctx.services.redactSecrets?.()
  const flavour = await detectComposeFlavour()
  const env = composeEnvironment({
    instance,
    env: ctx.env,
    secretEnv: ctx.secretEnv,
    observability: config.observability,
  })
  const cwd = [instance.path, ...files.map((file) => dirname(file))].find((dir) => existsSync(dir)) ?? ctx.cwd
  return {
    instance,
    project,
    files,
    config,
    options: {
      flavour,
      target: { project, files, profiles: config.profiles },
      cwd,
      env,
      signal: ctx.signal,
      onLine: (line) => ctx.log.debug(ctx.redactor.redact(line)),
    },
  }
}

export function composeState(ctx: TaskContext): ComposeState | undefined {
  return ctx.state.compose as ComposeState | undefined
}

/** `docker-compose 1.29.2` / `docker compose 2.29.1`, for messages. */
export function describeFlavour(session: ComposeSession): string {
  return [session.options.flavour.label, session.options.flavour.version].filter(Boolean).join(' ')
}
