import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type InstanceRecord, parseEnvFile } from '@berth/contract'
import type { SharedDirStatus, SharedStatusReport } from './outputs.js'
import { sharedDirs, sharedRoot } from './paths.js'
import type { SharedDataConfig } from './schema.js'
import { folderUsage } from './usage.js'

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
