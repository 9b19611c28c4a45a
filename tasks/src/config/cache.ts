import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { fingerprint, homeDirectory, keepNewest } from '@berth/contract'

/** What the bin sets when it runs berth's bundle: the bundle's identity (bin/code-cache.cjs). */
interface BuildGlobal {
  __berthBuild?: string
}

/** The configs whose sections are kept (the most recently validated). */
const CACHE_ENTRIES = 200

interface Stored {
  build: string
  /** Section name (or `(core)`) -> the JSON of its value in the config, and what the schema made of it. */
  sections: Record<string, { input: string; value: unknown }>
}

/**
 * Config sections as berth's own schemas validated them, kept between runs (issue 16: building a
 * section's zod schema and checking it cost a read-only command more than its work: 2-4 ms of a
 * ~90 ms `sandbox list` or `sandbox slots`). Safe by construction:
 * - only for berth's bundle, named by its identity (size, mtime, inode, Node version: any other
 *   build, and so any other schema, misses), and only for sections of berth's own plugins;
 * - a section is taken from the cache only when its value in the config is, as JSON, exactly the
 *   one that was validated; a value or a result JSON cannot hold exactly is never kept, nor is a
 *   section that failed (its errors are worked out again each time);
 * - entries live in the user's own cache folder (mode 0700), written to a temp file renamed into
 *   place; anything unreadable there is ignored, and a write that fails is ignored;
 * - BERTH_CONFIG_CACHE=0 turns it off. Commands that change something validate the whole file
 *   as they always did; this serves the read-only ones and the runner's own keys.
 */
export class SectionCache {
  private constructor(
    private readonly path: string,
    private readonly stored: Stored,
  ) {}

  /** The cache of the config at `place` (its file, or the folder when there is none). */
  static open(place: string): SectionCache | undefined {
    const build = (globalThis as BuildGlobal).__berthBuild
    if (!build || process.env.BERTH_CONFIG_CACHE === '0') return undefined
    const base = process.env.XDG_CACHE_HOME || join(homeDirectory(), '.cache')
    const path = join(base, 'berth', 'config', `${fingerprint(place).replace(':', '-')}.json`)
    let stored: Stored = { build, sections: {} }
    try {
      const read = JSON.parse(readFileSync(path, 'utf8')) as Stored
      if (read.build === build && typeof read.sections === 'object' && read.sections !== null) stored = read
    } catch {
      // none yet, or not one this berth reads
    }
    return new SectionCache(path, stored)
  }

  /** The validated value of `name` when its config value is the one validated before. */
  get(name: string, value: unknown): { value: unknown } | undefined {
    const entry = this.stored.sections[name]
    if (!entry) return undefined
    const input = plainJson(value)
    return input !== undefined && input === entry.input ? { value: structuredClone(entry.value) } : undefined
  }

  /** Keeps what `name`'s schema made of `value` (when both are plain JSON). */
  set(name: string, value: unknown, validated: unknown): void {
    const input = plainJson(value)
    if (input === undefined || plainJson(validated) === undefined) return
    this.stored.sections[name] = { input, value: structuredClone(validated) }
    try {
      const dir = join(this.path, '..')
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      const temp = `${this.path}.${process.pid}.tmp`
      writeFileSync(temp, JSON.stringify(this.stored), { mode: 0o600 })
      renameSync(temp, this.path)
      keepNewest(dir, CACHE_ENTRIES)
    } catch {
      // not writable: the next run validates again
    }
  }
}

/** `value` as JSON when JSON holds it exactly (`''` stands for undefined), else undefined. */
function plainJson(value: unknown): string | undefined {
  if (value === undefined) return ''
  try {
    const text = JSON.stringify(value)
    return text !== undefined && isDeepStrictEqual(JSON.parse(text), value) ? text : undefined
  } catch {
    return undefined
  }
}
