import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { defineState, type InstanceRecord, type TaskContext, UsageError } from '@berth/contract'
import { engineRequest } from '@berth/engine'
import { detectComposeFlavour } from '../flavour.js'
import { composeEnvironment, composeProjectName, resolveComposeFiles } from '../project.js'
import { type InstanceRender, RENDERED_FILE, renderInstanceCompose } from '../render/instance.js'
import type { RunComposeOptions } from '../run.js'
import { type ComposeConfig, composeSection } from '../schema.js'

/** Plugin-private data between `compose.*` steps of one pipeline (`composeStateKey`). */
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
  /** What compose runs: the rendered file, or the user's files with rendering off. */
  files: string[]
  /** The user's compose files (in the instance's checkout). */
  sources: string[]
  config: ComposeConfig
  options: RunComposeOptions
  /** The rendered file and what rendering changed; undefined with rendering off. */
  render?: InstanceRender | undefined
}

/** The resolved `compose` section (parsed again so a missing or lenient section still works). */
export function composeSettings(ctx: TaskContext): ComposeConfig {
  return composeSection.read(ctx)
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

/**
 * Resolves instance, project, files, flavour and environment for one compose command. With
 * rendering on (the default) the user's files are rendered for the instance first (cached) and
 * compose runs the rendered file with the user's project directory. `tolerateRenderError`
 * (teardown) falls back to the last rendered file, else the user's files, when rendering fails.
 */
export async function composeSession(
  ctx: TaskContext,
  step: string,
  options: { tolerateRenderError?: boolean } = {},
): Promise<ComposeSession> {
  const instance = requireInstance(ctx, step)
  const config = composeSettings(ctx)
  const sources = composeFilesFor(ctx, config)
  const render = await renderFor(ctx, instance, sources, config, options.tolerateRenderError ?? false)
  const files = render ? [render.file] : sources
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
  const cwd = [instance.path, ...sources.map((file) => dirname(file))].find((dir) => existsSync(dir)) ?? ctx.cwd
  return {
    instance,
    project,
    files,
    sources,
    config,
    render,
    options: {
      flavour,
      target: { project, files, profiles: config.profiles, projectDirectory: render?.projectDir },
      cwd,
      env,
      signal: ctx.signal,
      onLine: (line) => ctx.log.debug(ctx.redactor.redact(line)),
    },
  }
}

async function renderFor(
  ctx: TaskContext,
  instance: InstanceRecord,
  sources: string[],
  config: ComposeConfig,
  tolerateError: boolean,
): Promise<InstanceRender | undefined> {
  if (!config.render.enabled || sources.length === 0 || missingFiles(sources).length > 0) return undefined
  try {
    return await renderInstanceCompose(ctx, instance, sources, config)
  } catch (error) {
    if (!tolerateError) throw error
    const previous = join(instance.path, RENDERED_FILE)
    ctx.log.warn(`could not render the compose files (${(error as Error).message.split('\n')[0]})`)
    if (!existsSync(previous)) return undefined
    return { ...emptyRender(previous, sources), text: '' }
  }
}

function emptyRender(file: string, sources: string[]): InstanceRender {
  return {
    file,
    projectDir: dirname(sources[0] as string),
    sources,
    text: '',
    changes: [],
    warnings: [],
    ports: [],
    cached: true,
  }
}

/** What `compose.up` knew of the project before it started it (read by its undo and the hooks). */
export const composeStateKey = defineState<ComposeState>('compose')

export function composeState(ctx: TaskContext): ComposeState | undefined {
  return composeStateKey.get(ctx)
}

/** `docker-compose 1.29.2` / `docker compose 2.29.1`, for messages. */
export function describeFlavour(session: ComposeSession): string {
  return [session.options.flavour.label, session.options.flavour.version].filter(Boolean).join(' ')
}
