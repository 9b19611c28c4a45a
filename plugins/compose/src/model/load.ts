import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, relative, resolve } from 'node:path'
import { UsageError } from '@berth/contract'
import { yaml } from '../yaml-lazy.js'
import { mergeService, mergeTopLevel } from './merge.js'
import { isMapping, type Mapping, toBuildMap, toList } from './normalise.js'

/**
 * The user's compose files read as compose reads them — YAML anchors and `<<` merge keys
 * followed, `extends` resolved, override files merged in order — but without interpolation:
 * every `${VAR}` stays as written, so no value (and no secret) from the environment enters it.
 */
export interface ComposeModel {
  /** The merged top level: `services`, `volumes`, `networks`, … as plain data. */
  doc: Mapping
  /** Every service, merged (`doc.services`). */
  services: Record<string, Mapping>
  /** The files, in order. */
  files: string[]
  /** Compose's project directory: the first file's folder, where relative paths start. */
  projectDir: string
}

/** Thrown for a file compose could not read either: exit 2 naming the file and line. */
export function modelError(message: string, hint: string): UsageError {
  return new UsageError(message, { code: 'E_COMPOSE_MODEL', hint })
}

export function loadComposeModel(files: string[]): ComposeModel {
  if (files.length === 0) throw modelError('no compose file to read', 'set compose.files in the berth config')
  const projectDir = dirname(files[0] as string)
  let doc: Mapping = {}
  for (const file of files) {
    const parsed = parseComposeFile(file)
    resolveExtends(parsed, file, projectDir, [])
    doc = mergeTopLevel(doc, parsed)
  }
  if ('include' in doc) {
    throw modelError(
      `${files.join(', ')}: top-level "include" is not supported by berth's rendering`,
      'inline the included files with -f (compose.files), or turn rendering off (compose.render.enabled: false)',
    )
  }
  const services = isMapping(doc.services) ? (doc.services as Record<string, Mapping>) : {}
  for (const [name, service] of Object.entries(services)) {
    if (!isMapping(service)) {
      throw modelError(`${files.join(', ')}: service "${name}" is not a mapping`, 'fix the compose file')
    }
  }
  doc.services = services
  return { doc, services, files, projectDir }
}

/** Told of every file a model load reads, and its text (the model cache records them). */
let readObserver: ((file: string, text: string) => void) | undefined

/** Runs `load`, telling `observer` of every compose file it reads (extended files included). */
export function observeReads<T>(observer: (file: string, text: string) => void, load: () => T): T {
  const previous = readObserver
  readObserver = observer
  try {
    return load()
  } finally {
    readObserver = previous
  }
}

/** One file as plain data: anchors and merge keys resolved, nothing interpolated. */
export function parseComposeFile(file: string): Mapping {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? String(error)
    throw modelError(`cannot read compose file ${file} (${reason})`, 'check compose.files in the berth config')
  }
  readObserver?.(file, text)
  return parseComposeText(text, file)
}

export function parseComposeText(text: string, file: string): Mapping {
  const { parseDocument, LineCounter } = yaml()
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { merge: true, lineCounter, prettyErrors: false, uniqueKeys: false })
  const error = doc.errors[0]
  if (error) {
    const line = error.linePos?.[0]?.line ?? lineCounter.linePos(error.pos[0]).line
    throw modelError(`${file}:${line}: invalid YAML: ${error.message.split('\n')[0]}`, 'fix the compose file')
  }
  const value = doc.toJS({ maxAliasCount: -1 }) as unknown
  if (value === null || value === undefined) return {}
  if (!isMapping(value)) throw modelError(`${file}: the top level is not a mapping`, 'fix the compose file')
  return value
}

/** Resolves every service's `extends` in one file (in place), following other files as compose does. */
function resolveExtends(doc: Mapping, file: string, projectDir: string, chain: string[]): void {
  const services = isMapping(doc.services) ? doc.services : undefined
  if (!services) return
  const done = new Set<string>()
  const resolveOne = (name: string, seen: string[]): Mapping => {
    const service = services[name]
    if (!isMapping(service))
      throw modelError(`${file}: extends names service "${name}", which it does not define`, 'fix the extends entry')
    if (done.has(name) || service.extends === undefined) return service
    const key = `${file}#${name}`
    if (seen.includes(key))
      throw modelError(`${file}: extends cycle: ${[...seen, key].join(' -> ')}`, 'fix the extends entries')
    const { extends: spec, ...local } = service
    const from = typeof spec === 'string' ? { service: spec } : isMapping(spec) ? spec : {}
    const baseName = String(from.service ?? '')
    let base: Mapping
    if (from.file === undefined) {
      base = resolveOne(baseName, [...seen, key])
    } else {
      const other = resolve(dirname(file), String(from.file))
      if ([...chain, file].includes(other))
        throw modelError(`${file}: extends cycle through ${other}`, 'fix the extends entries')
      const otherDoc = parseComposeFile(other)
      resolveExtends(otherDoc, other, projectDir, [...chain, file])
      const found = isMapping(otherDoc.services) ? otherDoc.services[baseName] : undefined
      if (!isMapping(found))
        throw modelError(`${other}: no service "${baseName}" (extended by ${file})`, 'fix the extends entry')
      base = rebasePaths(found, dirname(other), projectDir)
    }
    // What extends never inherits (compose: these tie a service to others of its own file).
    const { depends_on: _d, links: _l, volumes_from: _v, ...inherited } = base
    const merged = mergeService(inherited, local)
    services[name] = merged
    done.add(name)
    return merged
  }
  for (const name of Object.keys(services)) resolveOne(name, [])
}

/**
 * A service taken from another folder's file: its relative build context, env files and bind
 * sources start in that folder, so they are rewritten relative to the project directory.
 */
function rebasePaths(service: Mapping, fromDir: string, projectDir: string): Mapping {
  if (fromDir === projectDir) return service
  const rebase = (path: string): string => {
    if (isAbsolute(path) || path.startsWith('~') || path.includes('$') || /^[a-z]+:\/\//i.test(path)) return path
    const moved = relative(projectDir, resolve(fromDir, path))
    return moved.startsWith('.') ? moved : `./${moved}`
  }
  const result: Mapping = { ...service }
  if (service.build !== undefined) {
    const build = toBuildMap(service.build)
    if (typeof build.context === 'string') build.context = rebase(build.context)
    else build.context = rebase('.')
    result.build = build
  }
  if (service.env_file !== undefined) {
    result.env_file = toList(service.env_file).map((entry) =>
      isMapping(entry) && typeof entry.path === 'string'
        ? { ...entry, path: rebase(entry.path) }
        : typeof entry === 'string'
          ? rebase(entry)
          : entry,
    )
  }
  if (Array.isArray(service.volumes)) {
    result.volumes = service.volumes.map((entry) => {
      if (isMapping(entry)) {
        return entry.type === 'bind' && typeof entry.source === 'string'
          ? { ...entry, source: rebase(entry.source) }
          : entry
      }
      const text = String(entry)
      const colon = text.indexOf(':')
      const source = colon < 0 ? '' : text.slice(0, colon)
      return source.startsWith('.') ? `${rebase(source)}${text.slice(colon)}` : entry
    })
  }
  return result
}
