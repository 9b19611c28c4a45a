import { existsSync } from 'node:fs'
import { chmod, cp, mkdir, readdir, rm, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ConflictError, UsageError } from '@berth/contract'
import type { InitSharedDir, InitSharedReport } from './outputs.js'
import { sharedDirs, sharedRoot } from './paths.js'
import type { SharedDataConfig } from './schema.js'
import { extractTarball, listTarball, tarballLayout } from './tarball.js'
import { folderUsage, isEmptyOrAbsent } from './usage.js'

export interface InitSharedOptions {
  home: string
  config: SharedDataConfig
  /** A folder holding `<name>/` for each shared folder, or a tarball of them. */
  from?: string | undefined
  /** Resolves a relative `from`. */
  cwd?: string | undefined
}

/**
 * Creates `$BERTH_HOME/shared/<name>` for every configured folder (mode 0755): copied from a
 * source folder's `<name>/`, extracted from a tarball's `<name>/`, or empty. Refuses (exit 3,
 * before writing anything) when a folder the source would fill is not empty. Writes nothing
 * outside those folders; anything else in the source is reported as ignored.
 */
export async function initShared(options: InitSharedOptions): Promise<InitSharedReport> {
  const dirs = sharedDirs(options.home, options.config)
  if (dirs.length === 0) {
    throw new UsageError('no shared folders are configured', {
      code: 'E_NO_SHARED_DIRS',
      hint: 'add them to the config, e.g. "sharedData": { "dirs": { "data": "KTRDR_DATA_DIR" } }',
    })
  }
  const root = sharedRoot(options.home)
  const source =
    options.from === undefined ? undefined : await describeSource(resolve(options.cwd ?? '.', options.from))
  const names = dirs.map((dir) => dir.name)

  let present: string[] = []
  let ignored: string[] = []
  let layout: ReturnType<typeof tarballLayout> | undefined
  if (source?.kind === 'folder') {
    const entries = await readdir(source.path, { withFileTypes: true })
    present = names.filter((name) => entries.some((entry) => entry.name === name && entry.isDirectory()))
    ignored = entries
      .filter((entry) => !present.includes(entry.name))
      .map((entry) => entry.name)
      .sort()
  } else if (source?.kind === 'tarball') {
    layout = tarballLayout(await listTarball(source.path), names)
    present = layout.present
    ignored = layout.ignored
  }

  const occupied: string[] = []
  for (const dir of dirs) {
    if (present.includes(dir.name) && !(await emptyFolder(dir.path))) occupied.push(dir.path)
  }
  if (occupied.length > 0) {
    throw new ConflictError(`shared folders already hold data: ${occupied.join(', ')}`, {
      code: 'E_SHARED_NOT_EMPTY',
      hint: 'berth never overwrites shared data: move or empty those folders first, or init without --from',
      details: { occupied },
    })
  }

  const existedBefore = new Set(dirs.filter((dir) => existsSync(dir.path)).map((dir) => dir.name))
  const created: string[] = []
  await ensureFolder(options.home, created, false)
  await ensureFolder(root, created, true)
  try {
    if (source?.kind === 'tarball' && layout) await extractTarball(source.path, root, layout)
    const report: InitSharedDir[] = []
    for (const dir of dirs) {
      const existed = existedBefore.has(dir.name)
      if (source?.kind === 'folder' && present.includes(dir.name)) {
        await cp(join(source.path, dir.name), dir.path, {
          recursive: true,
          verbatimSymlinks: true,
          errorOnExist: true,
          force: false,
        })
      }
      if (!existed && existsSync(dir.path)) created.push(dir.path)
      await ensureFolder(dir.path, created, true)
      const usage = await folderUsage(dir.path)
      const action = present.includes(dir.name) ? 'copied' : existed ? 'kept' : 'created'
      report.push({ ...dir, action, bytes: usage.bytes, files: usage.files })
    }
    return {
      root,
      source: source ?? null,
      dirs: report,
      missing: source ? names.filter((name) => !present.includes(name)) : [],
      ignored,
      created,
    }
  } catch (error) {
    // Back to how it was: folders this run made go; folders that were empty are emptied again.
    for (const dir of dirs) {
      if (!existedBefore.has(dir.name)) await rm(dir.path, { recursive: true, force: true })
      else if (present.includes(dir.name)) await emptyOut(dir.path)
    }
    await removeCreated(created)
    throw error
  }
}

async function emptyOut(path: string): Promise<void> {
  for (const entry of await readdir(path).catch(() => [])) {
    await rm(join(path, entry), { recursive: true, force: true })
  }
}

/** Removes what an init created, newest first (the undo of `shared.init`). */
export async function removeCreated(created: string[]): Promise<void> {
  for (const path of [...created].reverse()) await rm(path, { recursive: true, force: true })
}

async function describeSource(path: string): Promise<{ path: string; kind: 'folder' | 'tarball' }> {
  const info = await stat(path).catch(() => undefined)
  if (!info) {
    throw new UsageError(`--from ${path} does not exist`, {
      hint: 'name a folder holding the shared folders, or a tarball (.tar, .tar.gz, .tgz, .tar.xz) of them',
    })
  }
  return { path, kind: info.isDirectory() ? 'folder' : 'tarball' }
}

/** True for an empty folder or nothing; false for a non-empty folder or a file in the way. */
async function emptyFolder(path: string): Promise<boolean> {
  try {
    return await isEmptyOrAbsent(path)
  } catch {
    return false
  }
}

/** `mkdir` (0755) when absent, recording it in `created`. */
async function ensureFolder(path: string, created: string[], record: boolean): Promise<void> {
  if (existsSync(path)) return
  await mkdir(path, { recursive: true })
  await chmod(path, 0o755)
  if (record && !created.includes(path)) created.push(path)
}
