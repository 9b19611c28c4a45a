import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type InstanceRecord, parseEnvFile } from '@berth/contract'
import { type SharedDir, sharedDirs, sharedRoot } from './paths.js'
import type { SharedDataConfig } from './schema.js'
import { folderUsage } from './usage.js'

/** One shared folder in `berth shared status`. */
export interface SharedDirStatus extends SharedDir {
  exists: boolean
  bytes: number
  files: number
  /** Instances whose `.env.sandbox` carries this folder's path (so their compose mounts it). */
  instances: string[]
}

/** `ctx.output.shared` of `berth shared status`. */
export interface SharedStatusReport {
  root: string
  dirs: SharedDirStatus[]
  /** Instances with a slot whose `.env.sandbox` lacks a shared folder's line (written before it was configured). */
  outdated: { id: string; missing: string[] }[]
}

/**
 * Size and file count of each shared folder, and which registered instances mount it: read
 * from each instance's `.env.sandbox` (the source of truth), not from the process environment.
 */
export async function sharedStatus(
  home: string,
  config: SharedDataConfig,
  instances: InstanceRecord[],
): Promise<SharedStatusReport> {
  const dirs = sharedDirs(home, config)
  const envFiles = await Promise.all(
    instances.map(async (instance) => {
      const file = join(instance.path, '.env.sandbox')
      const text = await readFile(file, 'utf8').catch(() => undefined)
      let values: Record<string, string> | undefined
      try {
        values = text === undefined ? undefined : parseEnvFile(text, file)
      } catch {
        values = undefined
      }
      return { instance, values }
    }),
  )
  const report: SharedDirStatus[] = []
  for (const dir of dirs) {
    const usage = await folderUsage(dir.path)
    const using = envFiles.filter(({ values }) => values?.[dir.env] === dir.path).map(({ instance }) => instance.id)
    report.push({ ...dir, ...usage, instances: using.sort() })
  }
  const outdated = envFiles
    .filter(({ instance, values }) => instance.slot !== null && values !== undefined)
    .map(({ instance, values }) => ({
      id: instance.id,
      missing: dirs.filter((dir) => values?.[dir.env] !== dir.path).map((dir) => dir.env),
    }))
    .filter((entry) => entry.missing.length > 0)
  return { root: sharedRoot(home), dirs: report, outdated }
}

/** `1.2 GB`, `340 kB`, `12 B`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`
}
