import { join } from 'node:path'
import type { SharedDataConfig } from './schema.js'

/** One configured shared folder. */
export interface SharedDir {
  name: string
  /** The `.env.sandbox` variable carrying its host path. */
  env: string
  /** `$BERTH_HOME/shared/<name>`. */
  path: string
}

/** `$BERTH_HOME/shared`. */
export function sharedRoot(home: string): string {
  return join(home, 'shared')
}

/** The configured folders with their host paths, in config order. */
export function sharedDirs(home: string, config: SharedDataConfig): SharedDir[] {
  return Object.entries(config.dirs).map(([name, env]) => ({ name, env, path: join(sharedRoot(home), name) }))
}

/**
 * The `.env.sandbox` lines for shared data: each folder's variable (and the root variable, when
 * configured) set to its host path, so the compose file can mount exactly those folders.
 */
export function sharedEnv(home: string, config: SharedDataConfig): Record<string, string> {
  const env: Record<string, string> = {}
  if (config.root) env[config.root] = sharedRoot(home)
  for (const dir of sharedDirs(home, config)) env[dir.env] = dir.path
  return env
}
