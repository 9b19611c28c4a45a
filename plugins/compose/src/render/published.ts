import type { PublishedHostPorts } from '@berth/contract'
import { interpolate, referencedVariables, type VariableValues } from '../lint/interpolate.js'
import type { ComposeModel } from '../model/load.js'
import { isMapping, toList } from '../model/normalise.js'
import { parsePortEntry } from '../model/ports.js'

export type { PublishedHostPorts }

/** How a `published` value will be bound once compose resolves it. */
export type PublishedValue =
  /** No host port: compose picks a random one. */
  | { kind: 'random' }
  /** Names a per-instance variable (a port variable of the layout, the slot): differs per instance as written. */
  | { kind: 'instance'; text: string }
  /** The same port(s) in every instance: a literal, or `${X:-5432}` with X the same for all. */
  | { kind: 'fixed'; ports: number[] }
  /** Something compose will not read as a port (berth leaves it as written). */
  | { kind: 'unknown'; text: string }

/** The widest host-port range berth maps (compose allows more; nobody publishes that many). */
const MAX_RANGE = 100

/**
 * Resolves a `published` value as compose will: variables that differ per instance keep it as
 * written; any other variable takes its shared value (the project's `.env`, its default).
 */
export function resolvePublished(
  text: string | undefined,
  instanceVariables: ReadonlySet<string>,
  variables: VariableValues,
): PublishedValue {
  if (text === undefined || text.trim() === '') return { kind: 'random' }
  if (referencedVariables(text).some((name) => instanceVariables.has(name))) return { kind: 'instance', text }
  const value = interpolate(text, variables).trim()
  if (value === '') return { kind: 'random' }
  const single = /^(\d{1,5})$/.exec(value)
  if (single) return port(Number(single[1]), Number(single[1]), text)
  const range = /^(\d{1,5})-(\d{1,5})$/.exec(value)
  if (range) return port(Number(range[1]), Number(range[2]), text)
  return { kind: 'unknown', text }
}

function port(first: number, last: number, text: string): PublishedValue {
  if (first < 1 || last > 65535 || last < first || last - first >= MAX_RANGE) return { kind: 'unknown', text }
  return { kind: 'fixed', ports: Array.from({ length: last - first + 1 }, (_, i) => first + i) }
}

/**
 * Every fixed host port the model publishes, per service and entry, in file order: what berth
 * must give each instance a port of its own for (the ports plugin names and numbers them).
 */
export function listPublishedHostPorts(
  model: ComposeModel,
  instanceVariables: ReadonlySet<string>,
  variables: VariableValues,
): PublishedHostPorts[] {
  const found: PublishedHostPorts[] = []
  for (const [service, settings] of Object.entries(model.services)) {
    if (!isMapping(settings)) continue
    for (const entry of toList(settings.ports)) {
      const mapping = parsePortEntry(entry)
      if (!mapping) continue
      const value = resolvePublished(mapping.published, instanceVariables, variables)
      if (value.kind === 'fixed') found.push({ service, ports: value.ports })
    }
  }
  return found
}
