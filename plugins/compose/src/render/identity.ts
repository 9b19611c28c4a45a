import { referencedVariables } from '../lint/interpolate.js'
import { isMapping, type Mapping, toKeyValueMap, toList } from '../model/normalise.js'

/** Labels every rendered container carries. */
export const IDENTITY_LABELS = ['berth.instance', 'berth.slot', 'berth.project'] as const

/** What a service's `env_file`s say about the two telemetry variables berth fills in. */
export interface EnvFileTelemetry {
  resourceAttributes?: string | undefined
  serviceName?: string | undefined
}

/**
 * Gives one service the instance's identity: `INSTANCE_ID`, `SLOT_NUMBER`,
 * `OTEL_RESOURCE_ATTRIBUTES` (merged with the service's own, `instance.id` first),
 * `OTEL_SERVICE_NAME` where the service sets none, and the `berth.*` labels. Values are `${VAR}`
 * references to what berth gives compose's environment, so the file holds no instance's values.
 */
export function addIdentity(
  name: string,
  service: Mapping,
  project: string,
  fromEnvFiles: EnvFileTelemetry,
): { service: Mapping; notes: string[] } {
  const notes: string[] = []
  const environment = toKeyValueMap(service.environment)
  environment.INSTANCE_ID = '${INSTANCE_ID}'
  environment.SLOT_NUMBER = '${SLOT_NUMBER}'
  const own = environment.OTEL_RESOURCE_ATTRIBUTES
  const ownText = typeof own === 'string' ? own : own === null || own === undefined ? undefined : String(own)
  if (ownText !== undefined && referencedVariables(ownText).includes('OTEL_RESOURCE_ATTRIBUTES')) {
    // `${OTEL_RESOURCE_ATTRIBUTES}` (with or without a default) already takes berth's value.
  } else if (ownText !== undefined) {
    environment.OTEL_RESOURCE_ATTRIBUTES = mergeAttributes(ownText)
    notes.push('OTEL_RESOURCE_ATTRIBUTES merged with instance.id')
  } else if (own === undefined && fromEnvFiles.resourceAttributes !== undefined) {
    environment.OTEL_RESOURCE_ATTRIBUTES = mergeAttributes(escapeDollars(fromEnvFiles.resourceAttributes))
    notes.push('OTEL_RESOURCE_ATTRIBUTES of its env_file merged with instance.id')
  } else {
    environment.OTEL_RESOURCE_ATTRIBUTES = '${OTEL_RESOURCE_ATTRIBUTES}'
  }
  if (environment.OTEL_SERVICE_NAME === undefined && fromEnvFiles.serviceName === undefined) {
    environment.OTEL_SERVICE_NAME = escapeDollars(name)
  }
  const labels = toKeyValueMap(service.labels)
  labels['berth.instance'] = '${INSTANCE_ID}'
  labels['berth.slot'] = '${SLOT_NUMBER}'
  labels['berth.project'] = escapeDollars(project)
  return { service: { ...service, environment, labels }, notes }
}

/**
 * `${OTEL_RESOURCE_ATTRIBUTES}` (berth's `instance.id=<id>,deployment.environment=…`) followed by
 * the service's own attributes, without the two keys berth sets.
 */
function mergeAttributes(own: string): string {
  const kept = own
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '' && !/^(instance\.id|deployment\.environment)\s*=/.test(part))
  return ['${OTEL_RESOURCE_ATTRIBUTES}', ...kept].join(',')
}

/** The `env_file` entries of a service as paths (relative ones start at the project directory). */
export function envFilePaths(service: Mapping): { path: string; required: boolean }[] {
  return toList(service.env_file).flatMap((entry) => {
    if (typeof entry === 'string') return [{ path: entry, required: true }]
    if (isMapping(entry) && typeof entry.path === 'string')
      return [{ path: entry.path, required: entry.required !== false }]
    return []
  })
}

/** `text` with every `$` doubled: a literal for compose, which would otherwise interpolate it. */
export function escapeDollars(text: string): string {
  return text.replaceAll('$', () => '$$')
}
