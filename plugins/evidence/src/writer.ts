import { createHash } from 'node:crypto'
import { lstat, mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, relative, sep } from 'node:path'
import { listFiles, type Redactor } from '@berth/contract'
import type { BundleFile } from './schema.js'

/** Artifacts larger than this are listed as a problem instead of copied. */
export const MAX_COPIED_FILE_BYTES = 50 * 1024 * 1024

/**
 * Writes the files of one bundle. Every text passes through the redactor on its way to disk;
 * binary files are copied only when no secret occurs in their bytes. Records size and SHA-256 of
 * what was written, for the manifest.
 */
export class BundleWriter {
  readonly dir: string
  readonly files: BundleFile[] = []
  readonly problems: string[] = []
  readonly #redactor: Redactor

  constructor(dir: string, redactor: Redactor) {
    this.dir = dir
    this.#redactor = redactor
  }

  /** Writes `text`, redacted, to `path` (relative to the bundle; `/` separated). */
  async writeText(path: string, text: string): Promise<void> {
    await this.#write(path, Buffer.from(this.#redactor.redact(text), 'utf8'))
  }

  /** Writes `value` as indented JSON, redacted. */
  async writeJson(path: string, value: unknown): Promise<void> {
    await this.writeText(path, `${JSON.stringify(value, null, 2)}\n`)
  }

  /**
   * Copies a regular file (symlinks and other special files are skipped: a container could point
   * one anywhere on the host). Text is redacted; a binary file holding a secret is withheld.
   */
  async copyFile(source: string, path: string): Promise<boolean> {
    const stat = await lstat(source)
    if (!stat.isFile()) {
      this.problems.push(`${path}: not a regular file, not copied`)
      return false
    }
    if (stat.size > MAX_COPIED_FILE_BYTES) {
      this.problems.push(`${path}: ${stat.size} bytes, larger than ${MAX_COPIED_FILE_BYTES}, not copied`)
      return false
    }
    const bytes = await readFile(source)
    if (isText(bytes)) {
      await this.writeText(path, bytes.toString('utf8'))
      return true
    }
    const latin1 = bytes.toString('latin1')
    if (this.#redactor.redact(latin1) !== latin1) {
      this.problems.push(`${path}: binary file containing a secret value, withheld`)
      return false
    }
    await this.#write(path, bytes)
    return true
  }

  /** Copies every regular file below `source` into `path/`, keeping the layout. */
  async copyTree(source: string, path: string): Promise<number> {
    let copied = 0
    for (const file of await regularFilesBelow(source)) {
      if (await this.copyFile(join(source, file), `${path}/${file.split(sep).join('/')}`)) copied++
    }
    return copied
  }

  async #write(path: string, bytes: Buffer): Promise<void> {
    const full = join(this.dir, ...path.split('/'))
    if (relative(this.dir, full).startsWith('..')) throw new Error(`${path} is outside the bundle`)
    await mkdir(dirname(full), { recursive: true })
    await writeFile(full, bytes, { mode: 0o644 })
    this.files.push(describeBytes(path, bytes))
  }
}

/** Size and SHA-256 of a file's content. */
export function describeBytes(path: string, bytes: Buffer): BundleFile {
  return { path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
}

/** UTF-8 without NUL bytes counts as text. */
function isText(bytes: Buffer): boolean {
  if (bytes.includes(0)) return false
  return Buffer.from(bytes.toString('utf8'), 'utf8').equals(bytes)
}

/** Regular files below `dir` (relative paths, sorted); symlinks are not followed. */
export const regularFilesBelow = listFiles
