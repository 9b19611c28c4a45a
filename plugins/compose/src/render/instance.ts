import { createHash, randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { dirname, isAbsolute, join, relative, resolve } from 'node:path'
import type { InstanceRecord, TaskContext } from '@berth/contract'
import type { VariableValues } from '../lint/interpolate.js'
import { IDENTITY_VARIABLES } from '../lint/report.js'
import { loadModelCached } from '../model/cache.js'
import { readDotEnvFile } from '../model/dotenv.js'
import { type ComposeModel, loadComposeModel } from '../model/load.js'
import type { Mapping } from '../model/normalise.js'
import { resolveComposeFiles } from '../project.js'
import { type ComposeConfig, type WorkspaceConfig, workspaceSection } from '../schema.js'
import { envFilePaths } from './identity.js'
import { formatRendered, type RenderChange, type RenderedPort, renderModel } from './render.js'
import { DEFAULT_WORKSPACE_IMAGE, type WorkspaceRender } from './workspace.js'

/** Bumped when rendering changes, so cached renders of an older berth are not reused. */
const RENDER_VERSION = 6

/** Where an instance's rendered compose file lives, inside its checkout. */
export const RENDERED_FILE = join('.sandbox', 'compose.yaml')

export interface InstanceRender {
  /** The rendered file (absolute). */
  file: string
  /** Compose's project directory for it: the first user file's folder, so relative paths resolve as before. */
  projectDir: string
  /** The user's files it was rendered from. */
  sources: string[]
  text: string
  changes: RenderChange[]
  warnings: string[]
  ports: RenderedPort[]
  /** True when the render came from the cache (the files had not changed). */
  cached: boolean
}

interface CachedRender {
  text: string
  changes: RenderChange[]
  warnings: string[]
  ports: RenderedPort[]
  /** The env files read (their telemetry variables), with a hash of each: a changed one renders again. */
  envFiles: { path: string; hash: string | null }[]
}

/**
 * Renders the instance's compose files into `<instance>/.sandbox/compose.yaml` (written only when
 * it changed). Cached in `$BERTH_HOME/cache/render/` by the files' contents and everything the
 * render reads, so an unchanged stack costs no YAML parse. Throws `UsageError` (exit 2) for a file
 * compose could not read either.
 */
export async function renderInstanceCompose(
  ctx: TaskContext,
  instance: InstanceRecord,
  files: string[],
  config: ComposeConfig,
): Promise<InstanceRender> {
  const projectDir = dirname(files[0] as string)
  const instanceVariables = new Set([
    ...IDENTITY_VARIABLES,
    ...Object.keys(ctx.env),
    ...Object.keys(instance.ports ?? ctx.ports ?? {}),
  ])
  const dotEnvFile = join(projectDir, '.env')
  const profile = ctx.services.instanceProfile?.(instance)
  const hostGateway = ctx.services.hostServices?.(instance.kind) !== undefined ? ['host.docker.internal'] : []
  const workspace = workspaceFor(ctx, instance)
  const key = createHash('sha256').update(
    JSON.stringify({
      version: RENDER_VERSION,
      id: instance.id,
      project: ctx.config.project,
      render: config.render,
      limits: config.limits,
      instanceVariables: [...instanceVariables].sort(),
      layout: [ctx.config.sections.ports ?? null, ctx.config.sections.derivedPorts ?? null],
      profile: profile ? { name: profile.name, scale: profile.scale, composeProfiles: profile.composeProfiles } : null,
      hostGateway,
      workspace: workspace ?? null,
      files,
    }),
  )
  for (const file of [...files, dotEnvFile]) key.update('\0').update(readOptional(file) ?? '\0missing')
  const cacheFile = join(ctx.home, 'cache', 'render', `${key.digest('hex')}.json`)
  const output = join(instance.path, RENDERED_FILE)

  let render = await readCache(cacheFile)
  const cached = render !== undefined
  if (!render) {
    const model = loadComposeModel(files)
    const variables = readDotEnvFile(dotEnvFile) ?? {}
    const envFiles = new Map<string, string | null>()
    const result = renderModel(model, {
      project: ctx.config.project,
      hostIp: config.render.hostIp,
      instanceVariables,
      variables,
      nameHostPorts: ctx.services.nameHostPorts,
      envFileTelemetry: (_name, settings) => envFileTelemetry(settings, projectDir, envFiles),
      instanceImages: config.render.instanceImages,
      profile,
      hostGateway,
      limits: config.limits,
      workspace,
    })
    const header = [
      `Rendered by berth from ${files.map((file) => shown(file, instance.path)).join(', ')} (the instance's values come from .env.sandbox).`,
      `Compose runs it with --project-directory ${shown(projectDir, instance.path) || '.'}; do not edit:`,
      "berth writes it again before every compose command ('berth compose config' shows it).",
    ]
    render = {
      text: formatRendered(result.doc, header),
      changes: result.changes,
      warnings: result.warnings,
      ports: result.ports,
      envFiles: [...envFiles].map(([path, hash]) => ({ path, hash })),
    }
    await writeCache(ctx.home, cacheFile, render)
  }
  if ((readOptional(output)?.toString('utf8') ?? null) !== render.text) {
    await mkdir(dirname(output), { recursive: true })
    await ignoreFolder(dirname(output))
    // A unique temporary name: two commands of one checkout may render at the same moment.
    const temp = `${output}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
    await writeFile(temp, render.text, { mode: 0o644 })
    await rename(temp, output)
  }
  return {
    file: output,
    projectDir,
    sources: files,
    text: render.text,
    changes: render.changes,
    warnings: render.warnings,
    ports: render.ports,
    cached,
  }
}

/** The configured workspace of an instance (`workspace` section), or undefined when it has none. */
export function workspaceSettings(ctx: TaskContext): WorkspaceConfig | undefined {
  const settings = workspaceSection.read(ctx)
  return settings?.enabled ? settings : undefined
}

/** The image a workspace runs: `workspace.image`, else berth's default or the Dockerfile's own tag. */
export function workspaceImage(ctx: TaskContext, settings: WorkspaceConfig): string {
  if (settings.image) return settings.image
  if (!settings.dockerfile) return DEFAULT_WORKSPACE_IMAGE
  const project = ctx.config.project
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
  return `berth-workspace-${project || 'project'}:local`
}

/**
 * What rendering adds for the workspace: the checkout to mount, the variables it sees (the
 * `.env.sandbox` names, the identity and the named secrets: references only), the user berth runs as.
 */
function workspaceFor(ctx: TaskContext, instance: InstanceRecord): WorkspaceRender | undefined {
  const settings = workspaceSettings(ctx)
  if (!settings) return undefined
  const dockerfile = settings.dockerfile
    ? resolveComposeFiles({
        files: [settings.dockerfile],
        configRoot: ctx.config.root,
        repoRoot: ctx.repo?.root,
        instancePath: instance.path,
      })[0]
    : undefined
  const uid = process.getuid?.()
  const gid = process.getgid?.()
  return {
    service: settings.service,
    image: workspaceImage(ctx, settings),
    dockerfile,
    checkout: instance.path,
    user: uid === undefined || gid === undefined ? undefined : `${uid}:${gid}`,
    variables: [...Object.keys(ctx.env), ...settings.secrets],
    allow: settings.allow,
  }
}

/**
 * `.sandbox/.gitignore` holding `*`: git never sees what berth writes there, whichever step made
 * the folder first (a spec worktree never had `.env.sandbox` written, nor the exclude entry).
 */
async function ignoreFolder(folder: string): Promise<void> {
  const file = join(folder, '.gitignore')
  if (existsSync(file)) return
  await writeFile(file, '# written by berth: nothing here belongs in git\n*\n').catch(() => undefined)
}

/** Loads a model through a per-process memo keyed by the files' contents (claim and render read the same files). */
const models = new Map<string, ComposeModel>()
export function loadModelOnce(files: string[]): ComposeModel {
  // The files' names and texts themselves are the key (a few kB): no hash, so a read-only command
  // needs no node:crypto.
  const key = files.map((file) => `${file}\0${readOptional(file) ?? '\0missing'}`).join('\0\0')
  let model = models.get(key)
  if (!model) {
    model = loadModelCached(files, () => loadComposeModel(files))
    models.set(key, model)
  }
  return model
}

/** The project's `.env` values (compose's shared variables), for resolving `${X:-5432}`. */
export function projectVariables(files: string[]): VariableValues {
  return readDotEnvFile(join(dirname(files[0] as string), '.env')) ?? {}
}

function envFileTelemetry(settings: Mapping, projectDir: string, read: Map<string, string | null>) {
  let resourceAttributes: string | undefined
  let serviceName: string | undefined
  for (const { path } of envFilePaths(settings)) {
    if (path.includes('$')) continue // a path built from variables: compose's to resolve
    const file = isAbsolute(path) ? path : resolve(projectDir, path)
    const content = readOptional(file)
    read.set(file, content ? hashOf(content) : null)
    if (!content) continue
    const values = readDotEnvFile(file) ?? {}
    if (values.OTEL_RESOURCE_ATTRIBUTES !== undefined) resourceAttributes = values.OTEL_RESOURCE_ATTRIBUTES
    if (values.OTEL_SERVICE_NAME !== undefined) serviceName = values.OTEL_SERVICE_NAME
  }
  return { resourceAttributes, serviceName }
}

async function readCache(file: string): Promise<CachedRender | undefined> {
  let entry: CachedRender
  try {
    entry = JSON.parse(await readFile(file, 'utf8')) as CachedRender
  } catch {
    return undefined
  }
  for (const { path, hash } of entry.envFiles) {
    const content = readOptional(path)
    if ((content ? hashOf(content) : null) !== hash) return undefined
  }
  return entry
}

async function writeCache(home: string, file: string, entry: CachedRender): Promise<void> {
  try {
    await mkdir(join(home, 'cache', 'render'), { recursive: true, mode: 0o700 })
    const temp = `${file}.${process.pid}-${randomBytes(4).toString('hex')}`
    await writeFile(temp, JSON.stringify(entry), { mode: 0o600 })
    await rename(temp, file)
  } catch {
    // a read-only or full BERTH_HOME only costs the next run a parse
  }
}

function readOptional(file: string): Buffer | undefined {
  try {
    return existsSync(file) ? readFileSync(file) : undefined
  } catch {
    return undefined
  }
}

function hashOf(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex')
}

function shown(path: string, root: string): string {
  const inside = relative(root, path)
  return inside.startsWith('..') || isAbsolute(inside) ? path : inside
}
