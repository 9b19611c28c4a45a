import type { EngineContainer } from '@berth/contract'
import { containerLogTail, engineRequest } from '@berth/engine'
import { PROJECT_LABEL } from './engine.js'

const SERVICE_LABEL = 'com.docker.compose.service'
const NUMBER_LABEL = 'com.docker.compose.container-number'

/**
 * The last `tail` lines of the named services (all when empty) of one compose project, prefixed
 * `service-N | ` like compose's own output: one request to find the containers, one per container
 * for its log — no compose process, so a failing gate can explain itself at once.
 */
export async function projectLogTail(
  project: string,
  services: string[],
  tail: number,
  options: { socketPath?: string } = {},
): Promise<string> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }))
  const containers = await engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${filters}`, options)
  const chosen = containers
    .map((container) => ({
      container,
      name: `${container.Labels[SERVICE_LABEL] ?? '?'}-${container.Labels[NUMBER_LABEL] ?? '1'}`,
      service: container.Labels[SERVICE_LABEL] ?? '',
    }))
    .filter(({ service }) => services.length === 0 || services.includes(service))
    .sort((a, b) => a.name.localeCompare(b.name))
  const width = Math.max(0, ...chosen.map(({ name }) => name.length))
  const blocks = await Promise.all(
    chosen.map(async ({ container, name }) => {
      const text = (await containerLogTail(container.Id, tail, options)).replace(/\r?\n$/, '')
      if (!text) return ''
      return text
        .split(/\r?\n/)
        .map((line) => `${name.padEnd(width)} | ${line}`)
        .join('\n')
    }),
  )
  return blocks.filter(Boolean).join('\n')
}
