import type { ComposeServiceSummary, ComposeSummary } from '@berth/contract'
import { referencedVariables } from '../lint/interpolate.js'
import { loadComposeModel } from '../model/load.js'
import { isMapping, toList } from '../model/normalise.js'
import { parsePortEntry } from '../model/ports.js'
import { resolvePublished } from './published.js'

/**
 * What `berth setup` needs to know of a stack: per service, its fixed and parameterised published
 * ports, whether it has a healthcheck, its image and container_name. Read like rendering reads
 * (override files merged, extends followed, nothing interpolated).
 */
export function describeCompose(files: string[]): ComposeSummary {
  const model = loadComposeModel(files)
  const services: ComposeServiceSummary[] = []
  for (const [name, settings] of Object.entries(model.services)) {
    const fixed: ComposeServiceSummary['fixed'] = []
    const parameterised: ComposeServiceSummary['parameterised'] = []
    for (const entry of toList(settings.ports)) {
      const port = parsePortEntry(entry)
      if (!port?.published) continue
      const variables = referencedVariables(port.published)
      if (variables.length > 0) {
        const fallback = resolvePublished(port.published, new Set(), {})
        parameterised.push({
          variable: variables[0] as string,
          default: fallback.kind === 'fixed' && fallback.ports.length === 1 ? fallback.ports[0] : undefined,
          target: port.target,
        })
        continue
      }
      const value = resolvePublished(port.published, new Set(), {})
      if (value.kind === 'fixed') fixed.push({ ports: value.ports, target: port.target })
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
