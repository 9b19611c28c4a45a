import { existsSync } from 'node:fs'
import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { utcStamp } from '@berth/contract'

/** Bundle folder names: `20261122T185512Z`, or `20261122T185512Z-2` for a second one that second. */
export const BUNDLE_NAME = /^(\d{8}T\d{6}Z)(?:-(\d+))?$/

// Bundle names are `utcStamp()`s (@berth/contract, shared with the test artifacts' folders).
export { utcStamp }

/** Orders bundle names oldest first (`…Z` < `…Z-2` < `…Z-10`). */
export function compareBundleNames(a: string, b: string): number {
  const [, stampA = a, nA = '1'] = BUNDLE_NAME.exec(a) ?? []
  const [, stampB = b, nB = '1'] = BUNDLE_NAME.exec(b) ?? []
  return stampA === stampB ? Number(nA) - Number(nB) : stampA < stampB ? -1 : 1
}

/** The bundle folders in `parent`, oldest first. */
export async function listBundles(parent: string): Promise<string[]> {
  const entries = await readdir(parent, { withFileTypes: true }).catch(() => [])
  return entries
    .filter((entry) => entry.isDirectory() && BUNDLE_NAME.test(entry.name))
    .map((entry) => entry.name)
    .sort(compareBundleNames)
}

/** Creates `parent/<UTC time>` (with `-2`, `-3`… when that name exists) and returns its path. */
export async function createBundleDir(parent: string, date = new Date()): Promise<string> {
  await mkdir(parent, { recursive: true })
  const stamp = utcStamp(date)
  for (let n = 1; ; n++) {
    const dir = join(parent, n === 1 ? stamp : `${stamp}-${n}`)
    if (existsSync(dir)) continue
    try {
      await mkdir(dir)
      return dir
    } catch (error) {
      // Another berth process made the same name in the meantime: take the next one.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
  }
}

/**
 * Removes all but the `keep` newest bundle folders of `parent` (`current`, the one just written,
 * always stays, even if the clock went back); returns the names removed.
 */
export async function pruneBundles(parent: string, keep: number, current?: string): Promise<string[]> {
  const others = (await listBundles(parent)).filter((name) => name !== current)
  const kept = current === undefined ? keep : keep - 1
  const doomed = others.slice(0, Math.max(0, others.length - kept))
  for (const name of doomed) await rm(join(parent, name), { recursive: true, force: true })
  return doomed
}

/** The newest bundle in `parent` (other than `except`) holding `file`, or undefined. */
export async function newestBundleWith(parent: string, file: string, except?: string): Promise<string | undefined> {
  const bundles = await listBundles(parent)
  return bundles.reverse().find((name) => name !== except && existsSync(join(parent, name, file)))
}
