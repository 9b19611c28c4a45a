import { dirname, join } from 'node:path'
import type { ComposeServiceSummary, ComposeSummary } from '@berth/contract'
import { referencedVariables } from '../lint/interpolate.js'
import { readDotEnvFile } from '../model/dotenv.js'
import { loadComposeModel } from '../model/load.js'
import { isMapping, toList } from '../model/normalise.js'
import { parsePortEntry } from '../model/ports.js'
import { resolvePublished } from './published.js'

/**
 * What `berth setup` needs to know of a stack: per service, its fixed and parameterised published
 * ports, whether it has a healthcheck, its image and container_name. Read like rendering reads
 * (override files merged, extends followed, nothing interpolated). A port variable without a
 * literal default takes its value from the project's `.env`, as compose would.
 */
export function describeCompose(files: string[]): ComposeSummary {
  const model = loadComposeModel(files)
  const dotEnv = files[0] ? (readDotEnvFile(join(dirname(files[0]), '.env')) ?? {}) : {}
  const services: ComposeServiceSummary[] = []
  for (const [name, settings] of Object.entries(model.services)) {
    const fixed: ComposeServiceSummary['fixed'] = []
    const parameterised: ComposeServiceSummary['parameterised'] = []
    for (const [index, entry] of toList(settings.ports).entries()) {
      const port = parsePortEntry(entry)
      if (!port?.published) continue
      const variables = referencedVariables(port.published)
      if (variables.length > 0) {
        const single = (value: ReturnType<typeof resolvePublished>) =>
          value.kind === 'fixed' && value.ports.length === 1 ? value.ports[0] : undefined
        const literal = single(resolvePublished(port.published, new Set(), {}))
        const fromEnv = literal === undefined ? single(resolvePublished(port.published, new Set(), dotEnv)) : undefined
        parameterised.push({
          variable: variables[0] as string,
          default: literal ?? fromEnv,
          defaultFrom: literal !== undefined ? 'default' : fromEnv !== undefined ? '.env' : undefined,
          target: port.target,
          index,
        })
        continue
      }
      const value = resolvePublished(port.published, new Set(), {})
      if (value.kind === 'fixed') fixed.push({ ports: value.ports, target: port.target, index })
    }
    const healthcheck = isMapping(settings.healthcheck)
      ? settings.healthcheck.disable !== true &&
        !(Array.isArray(settings.healthcheck.test) && settings.healthcheck.test[0] === 'NONE')
      : false
    services.push({
      name,
      fixed,
      parameterised,
      healthcheck,
      image: typeof settings.image === 'string' ? settings.image : undefined,
      containerName: settings.container_name === undefined ? undefined : String(settings.container_name),
    })
  }
  return { files, services }
}
