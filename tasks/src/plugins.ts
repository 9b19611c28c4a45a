import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { importExternal, type Plugin, pluginKey } from '@berth/contract'
import { BUILTIN_KEYS, builtinPlugins } from './builtin-plugins.js'
import { importTypeScript } from './config/load.js'
import type { PluginEntry } from './config/schema.js'

export { builtinPlugins }

/** A module by URL, through the bin's import() when it runs the cached bundle (see importExternal). */
const importUrl = (url: string) => importExternal<Record<string, unknown>>(url, () => import(url))

function isPlugin(value: unknown): value is Plugin {
  const p = value as Plugin
  return typeof p === 'object' && p !== null && typeof p.name === 'string' && typeof p.steps === 'object'
}

/**
 * Loads one plugin named in the config: a package name (resolved from the config's folder) or a
 * local `.ts/.mts/.js/.mjs` file. The module's default export is a plugin or a factory taking
 * the entry's `options`.
 */
export async function loadPlugin(entry: PluginEntry, root: string): Promise<Plugin> {
  const spec = typeof entry === 'string' ? entry : entry.use
  const options = typeof entry === 'string' ? undefined : entry.options
  const local = spec.startsWith('.') || isAbsolute(spec)
  let mod: Record<string, unknown>
  if (local) {
    const file = resolve(root, spec)
    if (!existsSync(file)) throw new Error(`file ${file} does not exist`)
    mod = (
      /\.[mc]?ts$/.test(file) ? await importTypeScript(file) : await importUrl(pathToFileURL(file).href)
    ) as Record<string, unknown>
  } else {
    const require = createRequire(resolve(root, 'package.json'))
    mod = (await importUrl(pathToFileURL(require.resolve(spec)).href)) as Record<string, unknown>
  }
  const exported = mod.default ?? mod.plugin ?? mod
  const plugin = typeof exported === 'function' ? await (exported as (o: unknown) => unknown)(options ?? {}) : exported
  if (!isPlugin(plugin)) throw new Error('its default export is neither a plugin object nor a factory returning one')
  return plugin
}

/**
 * The config's plugins plus the built-ins (all, or those of `keys`); a config plugin whose key
 * (the part of its name after `:`) equals a built-in's replaces that built-in, in its place.
 * Load failures are collected as config problems.
 */
export async function loadPlugins(
  entries: PluginEntry[],
  root: string,
  problems: string[],
  keys?: ReadonlySet<string>,
): Promise<Plugin[]> {
  const configured: Plugin[] = []
  for (const [index, entry] of entries.entries()) {
    try {
      configured.push(await loadPlugin(entry, root))
    } catch (error) {
      const spec = typeof entry === 'string' ? entry : entry.use
      problems.push(`plugins[${index}]: cannot load "${spec}": ${(error as Error).message}`)
    }
  }
  const replaced = new Set(configured.map(pluginKey))
  const builtins = await builtinPlugins(
    new Set(BUILTIN_KEYS.filter((key) => (!keys || keys.has(key)) && !replaced.has(key))),
  )
  const plugins: Plugin[] = [...builtins]
  for (const plugin of configured) {
    const key = pluginKey(plugin)
    const at = BUILTIN_KEYS.indexOf(key)
    // A replacement takes its built-in's place in the load order; others come after the built-ins.
    const before = at < 0 ? -1 : plugins.findIndex((p) => BUILTIN_KEYS.indexOf(pluginKey(p)) > at)
    const existing = plugins.findIndex((p) => pluginKey(p) === key)
    if (existing >= 0) plugins[existing] = plugin
    else if (before >= 0) plugins.splice(before, 0, plugin)
    else plugins.push(plugin)
  }
  return plugins
}
