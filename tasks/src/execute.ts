import { existsSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import {
  type BerthServices,
  homeDirectory,
  isBerthError,
  OperationError,
  type PipelineOutcome,
  type Plugin,
  pluginKey,
  Redactor,
  type RepoInfo,
  type ResolvedConfig,
  type TaskContext,
  type TaskRequest,
  UsageError,
} from '@berth/contract'
import { findRepository } from '@berth/git'
import { BUILTIN_KEYS, builtinManifest, builtinPlugins, isBuiltin, type PluginManifest } from './builtin-plugins.js'
import type { CommandSpec } from './commands.js'
import { SectionCache } from './config/cache.js'
import { findConfig, type ParsedCore, parseCore, resolveConfig, resolveConfigLazily } from './config/load.js'
import { collectStepFlags, parseFlagValues, type StepFlag, stepFlagOptions } from './flags.js'
import { commandHelp } from './help.js'
import { interruptedError, watchInterrupts } from './interrupts.js'
import { createLogger, renderError } from './output.js'
import { documentHelpLines, documentKeys } from './outputs.js'
import { type Invocation, parseInvocation } from './parse.js'
import { bindPipeline, checkStepRefs, expandPipeline, resolvePipelines } from './pipelines.js'
import { loadPlugins } from './plugins.js'
import { renderResult } from './render.js'
import { type BoundStep, type PipelineError, runPipeline, type StepTiming, stepEffect } from './runner.js'
import { runnerState } from './runner-state.js'

/** `--slot N` / `<slot>`: a non-negative integer, else exit 2. */
function parseSlot(value: string | boolean | undefined, what: string): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined
  if (!/^\d{1,3}$/.test(value))
    throw new UsageError(`${what} ${JSON.stringify(value)} is not a slot number`, { hint: 'e.g. --slot 3' })
  return Number(value)
}

function buildRequest(invocation: Invocation): TaskRequest {
  const { command, positionals, flags } = invocation
  const slotArg = command.args?.[0] === '<slot>' ? parseSlot(positionals[0], 'slot') : undefined
  const name =
    command.args?.[0]?.startsWith('<name') ||
    command.args?.[0]?.startsWith('[name]') ||
    command.args?.[0]?.startsWith('<feature')
      ? positionals[0]
      : typeof flags.name === 'string'
        ? flags.name
        : undefined
  return { name, kind: command.kind, slot: slotArg ?? parseSlot(flags.slot, '--slot') }
}

export function berthHome(): string {
  return resolve(process.env.BERTH_HOME ?? join(homeDirectory(), '.berth'))
}

/**
 * BERTH_HOME must be a folder, or not exist yet below a folder: a file there (or above it) would
 * only surface later as a raw EEXIST / ENOTDIR from the first step that writes state.
 */
export function assertUsableHome(home: string): void {
  for (let path = home; ; path = dirname(path)) {
    let isFolder: boolean
    try {
      isFolder = statSync(path).isDirectory()
    } catch {
      if (dirname(path) === path) return
      continue // not there yet (or below a file): look further up
    }
    if (isFolder) return
    const where = path === home ? 'is a file' : `is inside ${path}, which is a file`
    throw new UsageError(`BERTH_HOME ${home} ${where}, not a folder`, {
      code: 'E_BERTH_HOME',
      hint: `point BERTH_HOME at a folder (e.g. export BERTH_HOME=${join(homeDirectory(), '.berth')}), or move ${path} aside`,
    })
  }
}

/**
 * A read-only command loaded only some plugins: a step reading a service of one it did not load
 * (one it did not declare in `uses`) fails naming the step, instead of seeing the service absent.
 */
function guardUnloadedServices(
  services: BerthServices,
  unloaded: Record<string, PluginManifest>,
  progress: { current?: string | undefined },
): void {
  for (const [key, manifest] of Object.entries(unloaded)) {
    for (const name of manifest.services) {
      if (name in services) continue
      Object.defineProperty(services, name, {
        enumerable: false,
        get() {
          throw new OperationError(
            `step ${progress.current ?? '?'} used the service ${name}, but its plugin (${key}) was not loaded for this command`,
            { hint: `declare it in the step's uses: ['${name}']` },
          )
        },
      })
    }
  }
}

/**
 * Whether a step's outputs are checked against their schemas as it writes them. A plugin a config
 * added (or swapped in) is checked on every run: nothing else proves its `--json` keys match what
 * it declares. berth's own steps are checked when BERTH_CHECK_OUTPUTS=1, as berth's test suite runs
 * every command; on a user's run that check cost more than the command (issue 16: 10 ms of a
 * `sandbox list --json` with 50 instances, zod walking every record twice).
 */
function outputSchemasChecked(bound: BoundStep): boolean {
  return !isBuiltin(bound.plugin) || process.env.BERTH_CHECK_OUTPUTS === '1'
}

/** Every plugin's `finalize`, in load order; their errors become warnings. */
async function finalize(plugins: Plugin[], ctx: TaskContext, outcome: PipelineOutcome): Promise<void> {
  for (const plugin of plugins) {
    try {
      await plugin.finalize?.(ctx, outcome)
    } catch (error) {
      ctx.log.warn(`${plugin.name}: ${(error as Error).message}`)
    }
  }
}

/** `--name VALUE` / `--name=VALUE` from argv before the full parse (which needs the plugins). */
function peekValue(argv: string[], name: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--') break
    if (token === `--${name}`) return argv[i + 1]
    if (token.startsWith(`--${name}=`)) return token.slice(name.length + 3)
  }
  return undefined
}

const wantsHelp = (argv: string[]) => {
  const end = argv.indexOf('--')
  return (end < 0 ? argv : argv.slice(0, end)).some((token) => token === '--help' || token === '-h')
}

/** Config, plugins and pipelines for a command: everything its flags and steps come from. */
interface LoadedRunner {
  repo: RepoInfo | undefined
  config: ResolvedConfig
  plugins: Plugin[]
  pipelines: Record<string, string[]>
  /** The command's pipeline with nothing dropped: every flag any of its steps may read. */
  steps: BoundStep[]
  stepFlags: StepFlag[]
  /** Built-ins a read-only command did not load, with what they would have offered. */
  unloaded: Record<string, PluginManifest>
}

async function loadRunner(cwd: string, command: CommandSpec): Promise<LoadedRunner> {
  const repo = await findRepository(cwd)
  const found = await findConfig(cwd, repo?.checkout)
  const cache = SectionCache.open(found.file ?? cwd)
  const core = parseCore(found.raw, found.file, cache)
  const problems: string[] = []
  const pluginRoot = found.file ? dirname(found.file) : (repo?.checkout ?? cwd)
  const pipelines = resolvePipelines(core.pipelines, problems)
  const lean =
    command.readOnly === true && problems.length === 0
      ? await leanPlugins(command, pipelines, core, pluginRoot)
      : undefined
  const plugins = lean?.plugins ?? (await loadPlugins(core.plugins, pluginRoot, problems))
  const unloaded = lean?.unloaded ?? {}
  problems.push(...(lean?.problems ?? []))
  checkStepRefs(pipelines, Object.keys(core.pipelines), plugins, problems, unloaded)
  let steps: BoundStep[] = []
  let stepFlags: StepFlag[] = []
  if (problems.length === 0) {
    steps = bindPipeline(command.pipeline, expandPipeline(command.pipeline, pipelines), plugins)
    stepFlags = collectStepFlags(command, steps, problems)
  }
  // A command whose every step only reads validates only the sections its steps read (issue 16).
  const readOnly =
    command.readOnly === true &&
    problems.length === 0 &&
    steps.length > 0 &&
    steps.every((bound) => stepEffect(bound.step) === 'read')
  const config = readOnly
    ? resolveConfigLazily(
        found,
        plugins,
        repo?.root,
        problems,
        cwd,
        unloaded,
        core,
        cache && {
          cache,
          sections: builtinSections(plugins),
        },
      )
    : resolveConfig(found, plugins, repo?.root, problems, cwd)
  return { repo, config, plugins, pipelines, steps, stepFlags, unloaded }
}

/**
 * For a read-only command (issue 16): the config's own plugins and only the built-ins that own the
 * pipeline's steps and offer the services those steps declare in `uses`. When a step writes or
 * declares no `uses`, the other built-ins are added (what was loaded is not loaded again).
 * Undefined when the pipeline cannot be expanded (the full path reports why).
 */
async function leanPlugins(
  command: CommandSpec,
  pipelines: Record<string, string[]>,
  core: ParsedCore,
  root: string,
): Promise<{ plugins: Plugin[]; unloaded: Record<string, PluginManifest>; problems: string[] } | undefined> {
  let refs: string[]
  try {
    refs = expandPipeline(command.pipeline, pipelines)
  } catch {
    return undefined
  }
  const problems: string[] = []
  const keys = new Set(refs.map((ref) => ref.split('.')[0]!))
  const first = await loadPlugins(core.plugins, root, problems, keys)
  const byKey = new Map(first.map((plugin) => [pluginKey(plugin), plugin]))
  const uses = new Set<string>()
  let lean = problems.length === 0
  for (const ref of refs) {
    const [key, name] = ref.split('.') as [string, string]
    const step = byKey.get(key)?.steps[name]
    if (!step || stepEffect(step) !== 'read' || !step.uses) lean = false
    for (const service of step?.uses ?? []) uses.add(service)
  }
  // Built-ins still to load: every other one, or those offering a declared service.
  const missing = BUILTIN_KEYS.filter(
    (key) =>
      !byKey.has(key) && (!lean || [...uses].some((service) => builtinManifest[key]?.services.includes(service))),
  )
  const plugins = missing.length === 0 ? first : withBuiltins(first, await builtinPlugins(new Set(missing)))
  const loaded = new Set(plugins.map(pluginKey))
  const unloaded = Object.fromEntries(Object.entries(builtinManifest).filter(([key]) => !loaded.has(key)))
  return { plugins, unloaded, problems }
}

/** The config sections berth's own plugins own or read (their schemas are berth's build's). */
function builtinSections(plugins: Plugin[]): Set<string> {
  const own = new Set<string>()
  const others = new Set<string>()
  for (const plugin of plugins) {
    const names = [
      ...(plugin.sections ?? []).map((section) => section.name),
      ...Object.keys(plugin.config ?? {}),
      ...Object.values(plugin.steps).flatMap((step) => (step.config ? [step.config.name] : [])),
    ]
    for (const name of names) (isBuiltin(plugin) ? own : others).add(name)
  }
  for (const name of others) own.delete(name)
  return own
}

/** `plugins` and `more` in load order; plugins that are not built-ins (the config's own) stay at the end. */
function withBuiltins(plugins: Plugin[], more: Plugin[]): Plugin[] {
  const rank = (plugin: Plugin) => {
    const at = BUILTIN_KEYS.indexOf(pluginKey(plugin))
    return at < 0 ? BUILTIN_KEYS.length : at
  }
  return [...plugins, ...more].sort((a, b) => rank(a) - rank(b))
}

/** `berth <command> --help` when the config cannot load: the command's own options, and why. */
function helpWithoutConfig(command: CommandSpec, error: unknown): string {
  const reason = isBerthError(error) ? error.message : String(error)
  return `${commandHelp(command)}\n(options of the pipeline's steps are not listed: ${reason})\n`
}

/** Runs one command's pipeline and prints its result; returns the exit code. */
export async function execute(argv: string[], command: CommandSpec): Promise<number> {
  const json = argv.includes('--json')
  const redactor = new Redactor()
  const outputOptions = {
    json,
    verbose: argv.includes('--verbose'),
    quiet: argv.includes('--quiet') || argv.includes('-q'),
    redactor,
  }
  const log = createLogger(outputOptions)
  let context: TaskContext | undefined
  let loadedPlugins: Plugin[] = []
  const interrupts = watchInterrupts(
    log,
    outputOptions,
    () => context,
    () => loadedPlugins,
  )
  try {
    const cwd = resolve(peekValue(argv, 'cwd') ?? process.cwd())
    if (!existsSync(cwd) || !statSync(cwd).isDirectory()) {
      throw new UsageError(`--cwd ${cwd} is not a directory`, { hint: 'pass an existing folder' })
    }
    let loaded: LoadedRunner
    try {
      loaded = await loadRunner(cwd, command)
    } catch (error) {
      if (!wantsHelp(argv)) throw error
      process.stdout.write(helpWithoutConfig(command, error))
      return 0
    }
    const { repo, config, plugins, pipelines, stepFlags } = loaded
    loadedPlugins = plugins
    const invocation = parseInvocation(
      argv,
      command,
      stepFlagOptions(stepFlags),
      documentHelpLines(documentKeys(loaded.steps)),
    )
    if ('help' in invocation) {
      process.stdout.write(invocation.help)
      return 0
    }
    const { flags } = invocation
    const flagValues = parseFlagValues(flags, stepFlags, command.path)
    if (command.allOption) {
      if (flags.all === true) {
        // Loaded only for --all (it starts a berth process per instance: child_process).
        const { executeAll } = await import('./all.js')
        return await executeAll(command, flags, invocation.positionals, cwd, interrupts.signal)
      }
      if (command.allOption === 'name-required' && invocation.positionals.length === 0) {
        throw new UsageError('missing <name>', {
          hint: `usage: berth ${command.path.join(' ')} <name>, or --all for every instance of this project`,
        })
      }
    }
    const request = buildRequest(invocation)
    const home = berthHome()
    assertUsableHome(home)
    const drop = new Set(
      Object.entries(command.drop ?? {}).flatMap(([flag, refs]) => (flags[flag] === true ? refs : [])),
    )
    const steps =
      drop.size === 0
        ? loaded.steps
        : bindPipeline(command.pipeline, expandPipeline(command.pipeline, pipelines, drop), plugins)
    const services: BerthServices = {}
    const ctx: TaskContext = {
      task: command.pipeline,
      cwd,
      home,
      config,
      args: { positionals: invocation.positionals, flags },
      flags: flagValues,
      settings: undefined,
      exitCode: 0,
      dryRun: flags['dry-run'] === true,
      json: flags.json === true,
      log,
      redactor,
      services,
      signal: interrupts.signal,
      request,
      ...(repo ? { repo } : {}),
      env: {},
      secretEnv: {},
      output: {},
      state: {},
    }
    runnerState.set(ctx, { plugins, pipelines })
    context = ctx
    for (const plugin of plugins) Object.assign(services, await plugin.services?.(ctx))
    guardUnloadedServices(services, loaded.unloaded, interrupts.progress)
    let timings: StepTiming[] = []
    try {
      timings = await runPipeline(
        steps,
        ctx,
        {
          onStepStart: (id) => log.stepStarted(id),
          onStepDone: (id, ms) => log.stepDone(id, ms),
          onStepFailed: (id, ms) => log.stepFailed(id, ms),
          onUndo: (id, error) => log.stepUndone(id, error),
        },
        {
          keep: flags['keep-on-failure'] === true || ((error) => (command.keepOn ?? []).includes(error.code)),
          dryRun: ctx.dryRun === true,
          progress: interrupts.progress,
          checkSchemas: outputSchemasChecked,
        },
      )
    } catch (raw) {
      const signal = interrupts.received()
      const error =
        signal && isBerthError(raw)
          ? interruptedError(signal, raw, {
              keep: flags['keep-on-failure'] === true,
              pending: interrupts.progress.pending,
            })
          : raw
      await finalize(plugins, ctx, {
        ok: false,
        error: error as Error,
        timings: (error as PipelineError).timings ?? [],
      })
      throw error
    }
    await finalize(plugins, ctx, { ok: true, timings })
    const exitCode = ctx.exitCode
    renderResult(command, steps, ctx.output, { json, redactor, ok: exitCode === 0 })
    return exitCode
  } catch (error) {
    const berthError = isBerthError(error)
      ? error
      : new OperationError(error instanceof Error ? error.message : String(error), { cause: error })
    if (!isBerthError(error) && outputOptions.verbose) log.debug(String((error as Error).stack))
    return renderError(berthError, outputOptions)
  } finally {
    interrupts.dispose()
  }
}
