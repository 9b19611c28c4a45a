import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { fingerprint, homeDirectory, keepNewest } from '@berth/contract'
import { type ComposeModel, observeReads } from './load.js'

const FORMAT = 1
/** The sets of compose files whose models are kept (the most recently parsed). */
const CACHE_ENTRIES = 200

interface Entry {
  format: number
  /** Every file the load read (the compose files and the files their services extend), with its text. */
  reads: [file: string, text: string][]
  model: ComposeModel
}

/** `$XDG_CACHE_HOME/berth/compose-models`, else `~/.cache/berth/compose-models` (the user's own). */
function cacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || join(homeDirectory(), '.cache')
  return join(base, 'berth', 'compose-models')
}

function currentText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/**
 * The compose model of `files` from the cache when every file it was built from still reads the
 * same, byte for byte; else `load()`'s, which is then kept (issue 16: parsing YAML, the yaml
 * library's loading included, was ~3 ms of a `sandbox slots` or `sandbox list` that only needs the
 * published ports). Safe by construction:
 * - an entry is used only when each file it recorded (compose files and extended ones) has exactly
 *   the recorded text now, and the files asked for are the ones it was built from;
 * - a model JSON cannot hold exactly (a value YAML has and JSON lacks) is not kept;
 * - entries live in the user's own cache folder (mode 0700), written to a temp file renamed into
 *   place; anything unreadable there is ignored, and a write that fails is ignored;
 * - BERTH_MODEL_CACHE=0 turns it off.
 */
export function loadModelCached(files: string[], load: () => ComposeModel): ComposeModel {
  if (process.env.BERTH_MODEL_CACHE === '0') return load()
  const dir = cacheDir()
  const path = join(dir, `${fingerprint(files.join('\0')).replace(':', '-')}.json`)
  try {
    const entry = JSON.parse(readFileSync(path, 'utf8')) as Entry
    if (
      entry.format === FORMAT &&
      isDeepStrictEqual(entry.model.files, files) &&
      entry.reads.every(([file, text]) => currentText(file) === text)
    ) {
      return entry.model
    }
  } catch {
    // no entry, or not one this berth reads
  }
  const reads: [string, string][] = []
  const model = observeReads((file, text) => reads.push([file, text]), load)
  try {
    const text = JSON.stringify({ format: FORMAT, reads, model } satisfies Entry)
    if (isDeepStrictEqual((JSON.parse(text) as Entry).model, model)) {
      mkdirSync(dir, { recursive: true, mode: 0o700 })
      const temp = join(dir, `.${process.pid}-${Date.now()}.tmp`)
      writeFileSync(temp, text, { mode: 0o600 })
      renameSync(temp, path)
      keepNewest(dir, CACHE_ENTRIES)
    }
  } catch {
    // not writable: the next run parses again
  }
  return model
}
