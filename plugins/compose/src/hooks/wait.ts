import { setTimeout as sleep } from 'node:timers/promises'
import { type EngineContainer, OperationError } from '@berth/contract'
import { engineRequest } from '@berth/engine'
import { PROJECT_LABEL } from '../engine.js'
import { healthOf } from '../status.js'

const SERVICE_LABEL = 'com.docker.compose.service'
const ONEOFF_LABEL = 'com.docker.compose.oneoff'

/**
 * Why a service is not ready for a hook yet, or undefined when it is: its container runs and,
 * unless `runningOnly`, its healthcheck (when it has one) says healthy.
 */
export function serviceNotReady(
  containers: EngineContainer[],
  service: string,
  runningOnly = false,
): string | undefined {
  const mine = containers.filter((c) => c.Labels[SERVICE_LABEL] === service && c.Labels[ONEOFF_LABEL] !== 'True')
  if (mine.length === 0) return `${service} has no container`
  const running = mine.filter((c) => c.State === 'running')
  if (running.length === 0) return `${service} is ${mine[0]!.State}`
  if (runningOnly) return undefined
  const health = running.map((c) => healthOf(c.Status))
  if (health.includes('unhealthy')) return `${service} is unhealthy`
  if (health.includes('starting')) return `${service} is still starting (health: starting)`
  return undefined
}

/** The project's containers, one engine request. */
export function projectContainers(project: string): Promise<EngineContainer[]> {
  const filters = encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }))
  return engineRequest<EngineContainer[]>(`/containers/json?all=1&filters=${filters}`)
}

/**
 * Waits until every service runs (the `healthy` ones also healthy, when they have a healthcheck), polling the engine
 * API every 250 ms (one request each time, any compose flavour). Throws an {@link OperationError}
 * naming what is not ready when `deadline` (a `performance.now()` value) passes.
 */
export async function waitForServices(
  project: string,
  services: { healthy: string[]; running: string[] },
  deadline: number,
  signal: AbortSignal,
  what: string,
): Promise<void> {
  if (services.healthy.length + services.running.length === 0) return
  for (;;) {
    const containers = await projectContainers(project)
    const waiting = [
      ...services.healthy.map((service) => serviceNotReady(containers, service)),
      ...services.running.map((service) => serviceNotReady(containers, service, true)),
    ].filter((r) => r !== undefined)
    if (waiting.length === 0) return
    if (performance.now() >= deadline) {
      throw new OperationError(`${what}: gave up waiting: ${waiting.join('; ')}`, {
        code: 'E_HOOK',
        hint: 'see why with `berth sandbox logs <service>`; raise the hook’s timeout if it only needs longer',
      })
    }
    try {
      await sleep(Math.min(250, Math.max(0, deadline - performance.now())), undefined, { signal })
    } catch {
      throw signal.reason
    }
  }
}
