import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import {
  ConfigError,
  importExternal,
  OperationError,
  type Plugin,
  pluginKey,
  type ResolvedConfig,
  slugify,
} from '@berth/contract'
import * as z from 'zod'
import type { SectionCache } from './cache.js'
import { applyPresets } from './presets.js'
import {
  CORE_KEYS,
  coreConfigSchema,
  coreConfigShape,
  formatIssues,
  type PipelineEdit,
  type PluginEntry,
} from './schema.js'

const SEARCH_PLACES = [
  'package.json',
  '.berthrc',
  '.berthrc.json',
  '.berthrc.yaml',
  '.berthrc.yml',
  '.berthrc.js',
  '.berthrc.mjs',
  '.berthrc.ts',
  'berth.config.ts',
  'berth.config.mts',
  'berth.config.mjs',
  'berth.config.js',
  'berth.config.json',
]

export interface FoundConfig {
  raw: Record<string, unknown>
  file: string | null
}

/** Imports a TypeScript module through tsx, loaded only when a `.ts` file is actually met. */
export async function importTypeScript(file: string): Promise<unknown> {
  const { tsImport } = await importExternal('tsx/esm/api', () => import('tsx/esm/api'))
  const mod = (await tsImport(file, import.meta.url)) as { default?: { __esModule?: boolean } }
  // Outside a `"type": "module"` package tsx compiles the file to CommonJS: its ES exports then
  // arrive wrapped as `default` (with `__esModule`), so unwrap them to the module's own exports.
  return mod.default?.__esModule === true ? mod.default : mod
}

/**
 * The common case without cosmiconfig (issue 16: loading it costs more than a read-only command's
 * work): the first of SEARCH_PLACES from `cwd` up to `stopDir`, in cosmiconfig's order, when it is
 * JSON (`berth.config.json`, `.berthrc.json`, a package.json with a `berth` key). Undefined when
 * the first file met is another kind (YAML, JS, TS), a JSON file does not parse (cosmiconfig then
 * words the error), or nothing is found up to `stopDir` (cosmiconfig also looks in the user's
 * config folder).
 */
export function findJsonConfig(cwd: string, stopDir?: string): FoundConfig | undefined {
  for (let dir = cwd; ; dir = dirname(dir)) {
    for (const place of SEARCH_PLACES) {
      const file = join(dir, place)
      if (!existsSync(file)) continue
      if (place !== 'package.json' && !place.endsWith('.json')) return undefined
      let text: string
      let parsed: unknown
      try {
        text = readFileSync(file, 'utf8')
        if (place !== 'package.json' && text.trim() === '') return { raw: {}, file }
        parsed = JSON.parse(text)
      } catch {
        return undefined
      }
      if (place === 'package.json') {
        const value = (parsed as Record<string, unknown> | null)?.berth
        if (value === undefined) continue
        parsed = value
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined
      return { raw: parsed as Record<string, unknown>, file }
    }
    if (!stopDir || dir === stopDir || dirname(dir) === dir) return undefined
  }
}

/** Finds the config from `cwd` upward (stopping at `stopDir`), cosmiconfig module name `berth`. */
export async function findConfig(cwd: string, stopDir?: string): Promise<FoundConfig> {
  const json = findJsonConfig(cwd, stopDir)
  if (json) return json
  // cosmiconfig is CommonJS: bundled, its named export sits on the default export.
  const loaded = (await importExternal('cosmiconfig', () => import('cosmiconfig'))) as typeof import('cosmiconfig') & {
    default?: typeof import('cosmiconfig')
  }
  const cosmiconfig = loaded.cosmiconfig ?? loaded.default!.cosmiconfig
  const tsLoader = async (file: string) => {
    const mod = (await importTypeScript(file)) as { default?: unknown }
    return mod.default ?? mod
  }
  const explorer = cosmiconfig('berth', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: stopDir ? 'global' : 'none',
    ...(stopDir ? { stopDir } : {}),
    loaders: { '.ts': tsLoader, '.mts': tsLoader },
    cache: false,
  })
  let result: Awaited<ReturnType<typeof explorer.search>>
  try {
    result = await explorer.search(cwd)
  } catch (error) {
    throw new ConfigError(`cannot read the berth config: ${(error as Error).message}`, [], { cause: error })
  }
  if (!result || result.isEmpty) return { raw: {}, file: result?.filepath ?? null }
  if (typeof result.config !== 'object' || result.config === null || Array.isArray(result.config)) {
    throw new ConfigError(`${result.filepath}: the config must be an object`, ['(root): expected an object'])
  }
  return { raw: result.config as Record<string, unknown>, file: result.filepath }
}

export interface ParsedCore {
  project?: string | undefined
  plugins: PluginEntry[]
  pipelines: Record<string, string[] | PipelineEdit>
}

/**
 * Phase 1: the runner's own keys, so plugins can be loaded before the full validation (from
 * `cache` when they are the ones validated before).
 */
export function parseCore(raw: Record<string, unknown>, file: string | null, cache?: SectionCache): ParsedCore {
  const input = Object.fromEntries(CORE_KEYS.flatMap((key) => (key in raw ? [[key, raw[key]]] : [])))
  const known = cache?.get(CORE, input)
  if (known) return known.value as ParsedCore
  const parsed = coreConfigSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues)
    throw new ConfigError(
      `${file ?? 'config'} is invalid (${problems.length} problem${problems.length > 1 ? 's' : ''})`,
      problems,
    )
  }
  const core: ParsedCore = { plugins: parsed.data.plugins, pipelines: parsed.data.pipelines }
  if (parsed.data.project !== undefined) core.project = parsed.data.project
  cache?.set(CORE, input, core)
  return core
}

/** The cache's name for the runner's own keys (no section can be called so). */
const CORE = '(core)'

/**
 * Phase 2: every section validated by the schema of the plugin that owns it, in one pass so every
 * problem is reported at once as `path: message`. Unknown top-level keys are errors (typos).
 */
export function resolveConfig(
  found: FoundConfig,
  plugins: Plugin[],
  repoRoot: string | undefined,
  extraProblems: string[] = [],
  cwd: string = process.cwd(),
): ResolvedConfig {
  const shape = configShape(plugins)
  const raw = applyPresets(found.raw, new Set(Object.keys(shape)))
  const parsed = z.object(shape).strict().safeParse(raw)
  const problems = [...extraProblems, ...(parsed.success ? [] : formatIssues(parsed.error.issues))]
  if (problems.length > 0 || !parsed.success) {
    throw new ConfigError(
      `${found.file ?? 'config'} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      problems,
      { hint: "fix the paths listed above; 'berth config schema' prints the full schema" },
    )
  }
  const data = parsed.data as Record<string, unknown>
  // `--cwd DIR` stands for the working folder everywhere: the default root and project come from it.
  const root = found.file ? dirname(found.file) : (repoRoot ?? cwd)
  const project = (data.project as string | undefined) ?? (slugify(basename(repoRoot ?? root)) || 'berth')
  const sections: Record<string, unknown> = {}
  for (const section of Object.keys(shape)) if (!isCoreKey(section)) sections[section] = data[section]
  sections.pipelines = data.pipelines
  sections.plugins = data.plugins
  return { project, root, file: found.file, sections }
}

/**
 * For a command whose steps only read (issue 16): the runner's keys and the top-level key names are
 * checked now, each plugin section only when a step first reads it, so a section the command never
 * touches is not validated (`berth config show` and every command that changes something still
 * validate the whole file with resolveConfig). A section that fails is a ConfigError naming its
 * paths, as resolveConfig would.
 */
export function resolveConfigLazily(
  found: FoundConfig,
  plugins: Plugin[],
  repoRoot: string | undefined,
  extraProblems: string[] = [],
  cwd: string = process.cwd(),
  unloaded: Record<string, { sections: string[] }> = {},
  /** The runner's keys as {@link parseCore} read them already (presets add none of them). */
  parsedCore?: ParsedCore,
  /** Validated sections kept between runs, and the sections it may serve (berth's own plugins'). */
  cached?: { cache: SectionCache; sections: ReadonlySet<string> },
): ResolvedConfig {
  // The runner's own keys come from parseCore; here, the sections (their schemas built when read).
  const shape = sectionShape(plugins)
  // Sections of built-ins the command did not load: known keys, never validated nor read here.
  const elsewhere = new Map<string, string>()
  for (const [key, manifest] of Object.entries(unloaded)) {
    for (const section of manifest.sections) if (!(section in shape)) elsewhere.set(section, key)
  }
  const raw = applyPresets(found.raw, new Set([...Object.keys(shape), ...elsewhere.keys()]))
  const invalid = (problems: string[]) =>
    new ConfigError(
      `${found.file ?? 'config'} is invalid (${problems.length} problem${problems.length === 1 ? '' : 's'})`,
      problems,
      { hint: "fix the paths listed above; 'berth config schema' prints the full schema" },
    )
  const problems = [...extraProblems]
  for (const key of Object.keys(raw)) {
    if (!(key in shape) && !isCoreKey(key) && !elsewhere.has(key))
      problems.push(`${key}: unknown key (check the spelling; 'berth config schema' lists the keys)`)
  }
  let core = parsedCore
  if (!core) {
    const parsed = z.object(coreConfigShape()).safeParse(Object.fromEntries(CORE_KEYS.map((key) => [key, raw[key]])))
    if (!parsed.success) problems.push(...formatIssues(parsed.error.issues))
    else core = parsed.data
  }
  if (problems.length > 0 || !core) throw invalid(problems)
  const root = found.file ? dirname(found.file) : (repoRoot ?? cwd)
  const project = core.project ?? (slugify(basename(repoRoot ?? root)) || 'berth')
  const sections: Record<string, unknown> = { pipelines: core.pipelines, plugins: core.plugins }
  for (const [name, schema] of Object.entries(shape)) {
    if (isCoreKey(name)) continue
    let value: { ok: true; data: unknown } | undefined
    Object.defineProperty(sections, name, {
      enumerable: true,
      configurable: true,
      get() {
        if (!value) {
          const cache = cached?.sections.has(name) ? cached.cache : undefined
          const known = cache?.get(name, raw[name])
          if (known) {
            value = { ok: true, data: known.value }
          } else {
            const parsed = schema.safeParse(raw[name])
            if (!parsed.success) throw invalid(formatIssues(parsed.error.issues, [name]))
            value = { ok: true, data: parsed.data }
            cache?.set(name, raw[name], parsed.data)
          }
        }
        return value.data
      },
    })
  }
  for (const [name, key] of elsewhere) {
    Object.defineProperty(sections, name, {
      enumerable: false,
      get() {
        throw new OperationError(
          `the config section ${name} was read, but its plugin (${key}) was not loaded for this command`,
          { hint: 'a step reading it must declare the service of that plugin it uses (Step.uses)' },
        )
      },
    })
  }
  return { project, root, file: found.file, sections }
}

/** The JSON Schema of the whole config file, generated from the zod schemas. */
export function configJsonSchema(plugins: Plugin[]): Record<string, unknown> {
  return z.toJSONSchema(z.object(configShape(plugins)).strict(), { io: 'input', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >
}

/** The whole config file's shape: the runner's keys and every section the plugins own. */
export function configShape(plugins: Plugin[]): Record<string, z.ZodType> {
  return { ...coreConfigShape(), ...sectionShape(plugins) }
}

/** Every section the plugins own (or their steps read), by name: schemas not built yet. */
function sectionShape(plugins: Plugin[]): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {}
  for (const plugin of plugins) {
    for (const section of plugin.sections ?? []) shape[section.name] = section.schema
    // A step may read another plugin's section (instance.summary reads url): its own copy of the schema.
    for (const step of Object.values(plugin.steps)) {
      if (step.config && !(step.config.name in shape)) shape[step.config.name] = step.config.schema
    }
    for (const [name, schema] of Object.entries(plugin.config ?? {})) shape[name] = schema
  }
  return shape
}

const isCoreKey = (name: string) => (CORE_KEYS as readonly string[]).includes(name)

export { pluginKey }
