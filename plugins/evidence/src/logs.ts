import type { EngineContainer } from '@berth/contract'
import { SERVICE_LABEL } from './containers.js'

const NUMBER_LABEL = 'com.docker.compose.container-number'

/**
 * Splits `compose logs --no-color` output of several services into one text per service. Lines
 * are prefixed with the container as compose names it: `backend_1 | …` (v1), `backend-1 | …` or
 * `proj-backend-1 | …` (v2), or the container's full name. Lines no prefix matches (compose's
 * own `Attaching to …`) are left out.
 */
export function splitServiceLogs(text: string, containers: EngineContainer[]): Record<string, string> {
  const byPrefix = new Map<string, string>()
  for (const container of containers) {
    const service = container.Labels[SERVICE_LABEL]
    if (!service) continue
    const number = container.Labels[NUMBER_LABEL] ?? '1'
    for (const name of container.Names) byPrefix.set(name.replace(/^\//, ''), service)
    byPrefix.set(`${service}_${number}`, service)
    byPrefix.set(`${service}-${number}`, service)
    if (!byPrefix.has(service)) byPrefix.set(service, service)
  }
  const lines: Record<string, string[]> = {}
  for (const line of text.split('\n')) {
    const match = /^(\S+)\s*\| ?(.*)$/.exec(line)
    if (!match) continue
    const service = byPrefix.get(match[1]!)
    if (!service) continue
    lines[service] ??= []
    lines[service].push(match[2]!)
  }
  return Object.fromEntries(Object.entries(lines).map(([service, kept]) => [service, `${kept.join('\n')}\n`]))
}
