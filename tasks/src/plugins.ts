import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { type Plugin, pluginKey } from '@berth/contract'
import { importTypeScript } from './config/load.js'
import type { PluginEntry } from './config/schema.js'

/** Built-in plugins, imported only when a command runs (never for --help / --version). */
export async function builtinPlugins(): Promise<Plugin[]> {
  const [ports, registry, worktree, secrets, gate, compose, evidence, shared, core] = await Promise.all([
    import('@berth/ports'),
    import('@berth/registry'),
    import('@berth/worktree'),
    import('@berth/secrets'),
    import('@berth/gate'),
    import('@berth/compose'),
    import('@berth/evidence'),
    import('@berth/shared'),
    import('./builtin/index.js'),
  ])
  return [
    ports.portsPlugin(),
    registry.registryPlugin(),
    worktree.worktreePlugin(),
    secrets.secretsPlugin(),
    gate.gatePlugin(),
    compose.composePlugin(),
    evidence.evidencePlugin(),
    shared.sharedPlugin(),
    ...core.corePlugins(),
  ]
}

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
    mod = (/\.[mc]?ts$/.test(file) ? await importTypeScript(file) : await import(pathToFileURL(file).href)) as Record<
      string,
      unknown
    >
  } else {
    const require = createRequire(resolve(root, 'package.json'))
    mod = (await import(pathToFileURL(require.resolve(spec)).href)) as Record<string, unknown>
  }
  const exported = mod.default ?? mod.plugin ?? mod
  const plugin = typeof exported === 'function' ? await (exported as (o: unknown) => unknown)(options ?? {}) : exported
  if (!isPlugin(plugin)) throw new Error('its default export is neither a plugin object nor a factory returning one')
  return plugin
}

/**
 * Built-ins plus the config's plugins; a config plugin whose key (the part of its name after
 * `:`) equals a built-in's replaces that built-in. Load failures are collected as config problems.
 */
export async function loadPlugins(entries: PluginEntry[], root: string, problems: string[]): Promise<Plugin[]> {
  const plugins = await builtinPlugins()
  for (const [index, entry] of entries.entries()) {
    try {
      const plugin = await loadPlugin(entry, root)
      const key = pluginKey(plugin)
      const existing = plugins.findIndex((p) => pluginKey(p) === key)
      if (existing >= 0) plugins[existing] = plugin
      else plugins.push(plugin)
    } catch (error) {
      const spec = typeof entry === 'string' ? entry : entry.use
      problems.push(`plugins[${index}]: cannot load "${spec}": ${(error as Error).message}`)
    }
  }
  return plugins
}
