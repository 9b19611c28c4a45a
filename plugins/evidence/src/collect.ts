import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import {
  ConflictError,
  type EngineContainer,
  type InstanceRecord,
  type PipelineOutcome,
  type TaskContext,
  UsageError,
} from '@berth/contract'
import { containerLogTail } from '@berth/engine'
import { BUNDLE_NAME, compareBundleNames, createBundleDir, newestBundleWith, pruneBundles } from './bundles.js'
import {
  type ContainerDetails,
  inspectContainers,
  learnContainerSecrets,
  projectContainers,
  projectNameFor,
  SERVICE_LABEL,
  secretVariableNames,
  serviceContainers,
} from './containers.js'
import { readGitState } from './git.js'
import { splitServiceLogs } from './logs.js'
import { type EvidenceConfig, type EvidenceManifest, evidenceConfigSchema } from './schema.js'
import { BundleWriter, describeBytes } from './writer.js'

export interface CollectOptions {
  /** `--out DIR`: write there (created; must be empty) instead of `<instance>/<dir>/<UTC time>`. */
  out?: string | undefined
  /** The finished pipeline's outcome: automatic bundles record it in `run.json`. */
  outcome?: PipelineOutcome | undefined
  /** Copy the newest e2e artifacts folder when this run made none (`berth evidence`). */
  newestArtifacts?: boolean | undefined
  /** Used for the folder name and `createdAt`; default now. */
  now?: Date | undefined
}

/** The resolved `evidence` section (parsed again so a missing or lenient section still works). */
export function evidenceSettings(ctx: TaskContext): EvidenceConfig {
  return evidenceConfigSchema.parse(ctx.config.sections.evidence)
}

/**
 * Where an instance's bundles live: `<instance>/<evidence.dir>`, or `$BERTH_HOME/evidence/<id>`
 * when the checkout is gone (a failed `impl` whose worktree was rolled back).
 */
export function bundlesParent(ctx: TaskContext, instance: InstanceRecord, settings = evidenceSettings(ctx)): string {
  return existsSync(instance.path) ? join(instance.path, settings.dir) : join(ctx.home, 'evidence', instance.id)
}

/**
 * Writes one evidence bundle for `ctx.instance` and returns its manifest (also written as
 * `manifest.json`). Whatever cannot be collected is listed in `problems`, never thrown: a
 * bundle is most needed when things are broken. Throws only for a bad `--out`.
 */
export async function collectEvidence(ctx: TaskContext, options: CollectOptions = {}): Promise<EvidenceManifest> {
  const instance = ctx.instance
  if (!instance) {
    throw new UsageError('evidence needs an instance, and this task has none', {
      hint: 'run it inside a registered worktree or clone, or name the instance',
    })
  }
  const settings = evidenceSettings(ctx)
  const parent = bundlesParent(ctx, instance, settings)
  const now = options.now ?? new Date()
  const dir = options.out ? await prepareOutDir(resolve(ctx.cwd, options.out)) : await createBundleDir(parent, now)
  await ctx.services.redactSecrets?.()
  const writer = new BundleWriter(dir, ctx.redactor)

  let containers: EngineContainer[] = []
  let details = new Map<string, ContainerDetails>()
  let engineError: string | undefined
  try {
    containers = await projectContainers(projectNameFor(instance.id))
    details = await inspectContainers(containers)
    learnContainerSecrets(details, secretVariableNames(ctx.config.sections, ctx.secretEnv), ctx.redactor)
  } catch (error) {
    engineError = (error as Error).message
    writer.problems.push(`containers: ${engineError}`)
  }

  const [gateFrom, e2eFrom] = await Promise.all([
    writeGate(ctx, writer, parent, options.out ? undefined : basename(dir)),
    writeArtifacts(ctx, writer, instance, options.newestArtifacts === true),
    writer.writeJson('config.json', ctx.redactor.redactValue(ctx.config)),
    writeEnvFile(writer, instance),
    writeWorkspaceRuns(writer, instance),
    engineError === undefined
      ? writer.writeJson('containers.json', { project: projectNameFor(instance.id), containers })
      : undefined,
    engineError === undefined ? writeLogs(ctx, writer, containers, settings.logTail) : undefined,
    writeGit(writer, instance),
    options.outcome ? writer.writeJson('run.json', runReport(ctx, options.outcome)) : undefined,
    // The lifecycle hooks this run ran (compose.afterUp / compose.beforeDown): each one's outcome
    // and the last lines of its output, redacted like every file of the bundle.
    ctx.output.hooks !== undefined ? writer.writeJson('hooks.json', ctx.output.hooks) : undefined,
  ])

  const manifest: EvidenceManifest = {
    version: 1,
    createdAt: now.toISOString(),
    task: ctx.task,
    instance: {
      id: instance.id,
      kind: instance.kind,
      slot: instance.slot,
      path: instance.path,
      ...(instance.branch ? { branch: instance.branch } : {}),
    },
    dir,
    gateFrom: gateFrom ?? null,
    e2eFrom: e2eFrom ?? null,
    files: [...writer.files].sort((a, b) => a.path.localeCompare(b.path)),
    problems: writer.problems,
  }
  const text = Buffer.from(ctx.redactor.redact(`${JSON.stringify(manifest, null, 2)}\n`), 'utf8')
  await writeFile(join(dir, 'manifest.json'), text, { mode: 0o644 })
  if (!options.out) {
    const removed = await pruneBundles(parent, settings.keep, basename(dir))
    if (removed.length > 0) ctx.log.debug(`evidence: removed ${removed.length} old bundle(s) (keep ${settings.keep})`)
  }
  return { ...manifest, files: [...manifest.files, describeBytes('manifest.json', text)] }
}

/** `--out DIR`: created when absent; refused when it holds anything (nothing is overwritten). */
async function prepareOutDir(dir: string): Promise<string> {
  if (existsSync(dir)) {
    const entries = await readdir(dir).catch(() => {
      throw new UsageError(`--out ${dir} is not a folder`, { hint: 'name a new or empty folder' })
    })
    if (entries.length > 0) {
      throw new ConflictError(`--out ${dir} is not empty`, {
        hint: 'name a new or empty folder; berth never overwrites files there',
      })
    }
    return dir
  }
  await mkdir(dir, { recursive: true })
  return dir
}

/** This run's gate report, else the newest earlier bundle's `gate.json`; returns where it came from. */
async function writeGate(
  ctx: TaskContext,
  writer: BundleWriter,
  parent: string,
  current: string | undefined,
): Promise<string | undefined> {
  if (ctx.output.gate !== undefined) {
    await writer.writeJson('gate.json', ctx.output.gate)
    return 'this run'
  }
  const older = await newestBundleWith(parent, 'gate.json', current)
  if (!older) return undefined
  await writer.copyFile(join(parent, older, 'gate.json'), 'gate.json')
  return older
}

/** `e2e/`: this run's artifacts folder, else (when asked) the newest one of the instance. */
async function writeArtifacts(
  ctx: TaskContext,
  writer: BundleWriter,
  instance: InstanceRecord,
  newest: boolean,
): Promise<string | undefined> {
  const report = ctx.output.e2e as { artifactsDir?: unknown } | undefined
  let source = typeof report?.artifactsDir === 'string' ? report.artifactsDir : undefined
  if (!source && newest) source = await newestArtifactsDir(ctx, instance)
  if (!source || !existsSync(source)) return undefined
  await writer.copyTree(source, 'e2e')
  return source
}

/** The newest `<instance>/<test.artifacts>/<UTC time>` folder (the compose plugin's `test` section). */
async function newestArtifactsDir(ctx: TaskContext, instance: InstanceRecord): Promise<string | undefined> {
  const configured = (ctx.config.sections.test as { artifacts?: unknown } | undefined)?.artifacts
  const base = join(instance.path, typeof configured === 'string' ? configured : '.sandbox/artifacts')
  const entries = await readdir(base, { withFileTypes: true }).catch(() => [])
  const runs = entries
    .filter((entry) => entry.isDirectory() && BUNDLE_NAME.test(entry.name))
    .map((entry) => entry.name)
    .sort(compareBundleNames)
  const last = runs.at(-1)
  return last ? join(base, last) : undefined
}

/**
 * `workspace-runs.jsonl`: every `berth run` / `berth shell` of the instance's workspace (the
 * compose plugin appends them to `<instance>/.sandbox/workspace/runs.jsonl`: command, exit code,
 * duration, redacted output). Absent when the instance never ran anything there.
 */
async function writeWorkspaceRuns(writer: BundleWriter, instance: InstanceRecord): Promise<void> {
  const file = join(instance.path, '.sandbox', 'workspace', 'runs.jsonl')
  if (!existsSync(file)) return
  await writer.writeText('workspace-runs.jsonl', await readFile(file, 'utf8'))
}

async function writeEnvFile(writer: BundleWriter, instance: InstanceRecord): Promise<void> {
  const file = join(instance.path, '.env.sandbox')
  if (!existsSync(file)) {
    writer.problems.push(`env.sandbox: ${file} does not exist`)
    return
  }
  await writer.writeText('env.sandbox', await readFile(file, 'utf8'))
}

/**
 * `logs/<service>.log` for every service of the project: each container's tail straight from the
 * engine; for containers the engine would not give logs of, one `serviceLogs` call (compose).
 */
async function writeLogs(
  ctx: TaskContext,
  writer: BundleWriter,
  containers: EngineContainer[],
  tail: number,
): Promise<void> {
  const byService = new Map<string, string[]>()
  const missing: EngineContainer[] = []
  const running = serviceContainers(containers)
  const tails = await Promise.all(
    running.map((container) => containerLogTail(container.Id, tail).catch(() => undefined)),
  )
  for (const [index, container] of running.entries()) {
    const text = tails[index]
    if (text === undefined) missing.push(container)
    else appendLog(byService, container, text, running)
  }
  if (missing.length > 0) await fillFromServiceLogs(ctx, writer, missing, byService, tail)
  await Promise.all(
    [...byService].map(([service, parts]) => writer.writeText(`logs/${safeFileName(service)}.log`, parts.join(''))),
  )
}

/** Adds a container's log to its service's; a service with several containers gets a heading per container. */
function appendLog(
  byService: Map<string, string[]>,
  container: EngineContainer,
  text: string,
  all: EngineContainer[],
): void {
  const service = container.Labels[SERVICE_LABEL]!
  const parts = byService.get(service) ?? []
  const siblings = all.filter((other) => other.Labels[SERVICE_LABEL] === service).length
  const body = text === '' || text.endsWith('\n') ? text : `${text}\n`
  parts.push(siblings > 1 ? `--- ${container.Names[0]?.replace(/^\//, '') ?? container.Id} ---\n${body}` : body)
  byService.set(service, parts)
}

async function fillFromServiceLogs(
  ctx: TaskContext,
  writer: BundleWriter,
  missing: EngineContainer[],
  byService: Map<string, string[]>,
  tail: number,
): Promise<void> {
  const services = [...new Set(missing.map((container) => container.Labels[SERVICE_LABEL]!))].sort()
  if (!ctx.services.serviceLogs) {
    writer.problems.push(`logs: the engine gave no logs of ${services.join(', ')} and no plugin provides serviceLogs`)
    return
  }
  try {
    const split = splitServiceLogs(await ctx.services.serviceLogs(services, tail), missing)
    for (const service of services) byService.set(service, [split[service] ?? ''])
  } catch (error) {
    writer.problems.push(`logs of ${services.join(', ')}: ${(error as Error).message}`)
  }
}

async function writeGit(writer: BundleWriter, instance: InstanceRecord): Promise<void> {
  if (!existsSync(instance.path)) {
    writer.problems.push(`git: ${instance.path} does not exist`)
    return
  }
  try {
    await writer.writeJson('git.json', await readGitState(instance.path))
  } catch (error) {
    writer.problems.push(`git: ${(error as Error).message}`)
  }
}

/** `run.json` of an automatic bundle: the task, its arguments, outcome, exit code and timings. */
function runReport(ctx: TaskContext, outcome: PipelineOutcome): Record<string, unknown> {
  const error = outcome.error as (Error & { code?: string; step?: string; hint?: string }) | undefined
  const exitCode = error ? ((error as { exitCode?: number }).exitCode ?? 1) : ctx.exitCode
  return {
    task: ctx.task,
    args: ctx.args,
    ok: outcome.ok && exitCode === 0,
    exitCode,
    error: error
      ? { code: error.code ?? null, message: error.message, step: error.step ?? null, hint: error.hint ?? null }
      : null,
    e2e: ctx.output.e2e ?? null,
    timings: outcome.timings,
  }
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_')
}
