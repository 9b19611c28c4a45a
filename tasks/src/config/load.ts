import { basename, dirname } from 'node:path'
import { ConfigError, type Plugin, pluginKey, type ResolvedConfig, slugify } from '@berth/contract'
import { z } from 'zod'
import { applyPresets } from './presets.js'
import { coreConfigSchema, coreConfigShape, formatIssues, type PipelineEdit, type PluginEntry } from './schema.js'

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
  const { tsImport } = await import('tsx/esm/api')
  const mod = (await tsImport(file, import.meta.url)) as { default?: { __esModule?: boolean } }
  // Outside a `"type": "module"` package tsx compiles the file to CommonJS: its ES exports then
  // arrive wrapped as `default` (with `__esModule`), so unwrap them to the module's own exports.
  return mod.default?.__esModule === true ? mod.default : mod
}

/** Finds the config from `cwd` upward (stopping at `stopDir`), cosmiconfig module name `berth`. */
export async function findConfig(cwd: string, stopDir?: string): Promise<FoundConfig> {
  // cosmiconfig is CommonJS: bundled, its named export sits on the default export.
  const loaded = (await import('cosmiconfig')) as typeof import('cosmiconfig') & {
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
  plugins: PluginEntry[]
  pipelines: Record<string, string[] | PipelineEdit>
}

/** Phase 1: the runner's own keys, so plugins can be loaded before the full validation. */
export function parseCore(raw: Record<string, unknown>, file: string | null): ParsedCore {
  const parsed = coreConfigSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = formatIssues(parsed.error.issues)
    throw new ConfigError(
      `${file ?? 'config'} is invalid (${problems.length} problem${problems.length > 1 ? 's' : ''})`,
      problems,
    )
  }
  return { plugins: parsed.data.plugins, pipelines: parsed.data.pipelines }
}

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
  for (const section of Object.keys(shape)) if (!(section in coreConfigShape)) sections[section] = data[section]
  sections.pipelines = data.pipelines
  sections.plugins = data.plugins
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
  const shape: Record<string, z.ZodType> = { ...coreConfigShape }
  for (const plugin of plugins) {
    for (const section of plugin.sections ?? []) shape[section.name] = section.schema
    for (const [name, schema] of Object.entries(plugin.config ?? {})) shape[name] = schema
  }
  return shape
}

export { pluginKey }
