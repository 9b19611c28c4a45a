import type { EngineContainer } from '@berth/contract'
import { type EngineEventStream, engineEvents, engineRequest, projectContainerList } from '@berth/engine'

/** A failure waiting cannot fix (a container `unhealthy` or gone): the check fails at once. */
export class DecisiveFailure extends Error {
  override name = 'DecisiveFailure'
}

/** What a `healthy` check asks the engine about. */
export interface HealthTarget {
  /** The compose project (the instance id). */
  project: string
  service: string
}

interface Inspected {
  Config?: { Healthcheck?: { Test?: string[] } }
  State?: { Health?: { Status?: string; Log?: { ExitCode: number; Output: string }[] } }
}

/** How long a board answer is shared: every `healthy` check polling in this window reads it. */
const SHARED_MS = 100
/** While a service is starting, its healthcheck's last output is read at most this often. */
const OUTPUT_EVERY_MS = 1000

/** The engine events that change what a `healthy` check sees: a health verdict, a container ending. */
const EVENTS = ['health_status', 'die']

/**
 * The engine's view of one compose project for the gate's `healthy` checks: one
 * `GET /containers/json` serves every check that polls within {@link SHARED_MS}, so N checks
 * cost one request a poll, not N. The healthcheck's output is read (one inspect) only to explain
 * a container that is unhealthy, still starting, or has no healthcheck.
 *
 * {@link watch} subscribes to the engine's event stream for the project (health_status and die
 * events): each event drops the shared answer and wakes the checks waiting in {@link changed}, so
 * a check asks again the moment the engine reports a verdict instead of at its next poll.
 */
export class HealthBoard {
  private answer: { at: number; containers: Promise<EngineContainer[]> } | undefined
  private readonly outputs = new Map<string, { at: number; output: string }>()
  private stream: EngineEventStream | undefined
  private watching: Promise<boolean> | undefined
  private live = false
  private readonly waiters = new Set<() => void>()
  /** Counts the events seen: a check compares it before and after its probe. */
  version = 0

  constructor(private readonly project: string) {}

  /**
   * Subscribes to the project's health events (once); resolves true when the engine accepted the
   * subscription, false when it did not (the checks then poll on their schedule).
   */
  watch(): Promise<boolean> {
    this.watching ??= (async () => {
      const stream = engineEvents(
        { type: ['container'], event: EVENTS, label: [`com.docker.compose.project=${this.project}`] },
        () => {
          this.version += 1
          this.answer = undefined
          this.wake()
        },
        {
          onEnd: () => {
            // The stream broke (the engine restarted): the waiting checks poll on their schedule.
            this.live = false
            this.wake()
          },
        },
      )
      this.stream = stream
      try {
        await stream.ready
        this.live = true
      } catch {
        stream.close()
      }
      return this.live
    })()
    return this.watching
  }

  /**
   * While the event stream is up: a promise that resolves at the first event after `since` (at
   * once when one came already). Undefined when there is no stream: poll instead.
   */
  changed(since: number): Promise<void> | undefined {
    if (!this.live) return undefined
    if (this.version !== since) return Promise.resolve()
    return new Promise((resolve) => this.waiters.add(resolve))
  }

  /** Ends the event subscription and releases every waiting check. */
  close(): void {
    this.live = false
    this.stream?.close()
    this.wake()
  }

  private wake(): void {
    const waiting = [...this.waiters]
    this.waiters.clear()
    for (const resolve of waiting) resolve()
  }

  /** Resolves when every container of `service` is healthy; throws why not (DecisiveFailure: give up now). */
  async probe(service: string): Promise<void> {
    const containers = (await this.containers()).filter(
      (container) =>
        container.Labels['com.docker.compose.service'] === service &&
        container.Labels['com.docker.compose.oneoff'] !== 'True',
    )
    if (containers.length === 0) throw new Error(`no container of service ${service} yet`)
    const waiting: string[] = []
    for (const container of containers) {
      const name = container.Names[0]?.replace(/^\//, '') ?? container.Id.slice(0, 12)
      const health = healthOf(container.Status)
      if (container.State === 'exited' || container.State === 'dead') {
        throw new DecisiveFailure(`${name} ${container.Status.toLowerCase()} before it was healthy`)
      }
      if (health === 'healthy') continue
      if (health === 'unhealthy') {
        const output = await this.lastOutput(container.Id, true)
        throw new DecisiveFailure(`${name} is unhealthy; its healthcheck said: ${output}`)
      }
      if (health === undefined && container.State === 'running') {
        const inspected = await engineRequest<Inspected>(`/containers/${encodeURIComponent(container.Id)}/json`)
        const test = inspected.Config?.Healthcheck?.Test
        if (!test || test[0] === 'NONE') {
          throw new DecisiveFailure(
            `service ${service} has no healthcheck, so the engine never calls it healthy (use a tcp or http check)`,
          )
        }
      }
      const output = await this.lastOutput(container.Id, false)
      waiting.push(
        `${name} ${health === 'starting' ? 'health: starting' : container.State}${output ? `; its healthcheck said: ${output}` : ''}`,
      )
    }
    if (waiting.length > 0) throw new Error(waiting.join('; '))
  }

  private containers(): Promise<EngineContainer[]> {
    const now = performance.now()
    if (!this.answer || now - this.answer.at > SHARED_MS) {
      const containers = projectContainerList(this.project)
      containers.catch(() => undefined)
      this.answer = { at: now, containers }
    }
    return this.answer.containers
  }

  /** The last healthcheck output of a container (read again at most once a second unless `fresh`). */
  private async lastOutput(id: string, fresh: boolean): Promise<string> {
    const known = this.outputs.get(id)
    if (!fresh && known && performance.now() - known.at < OUTPUT_EVERY_MS) return known.output
    const inspected = await engineRequest<Inspected>(`/containers/${encodeURIComponent(id)}/json`)
    const last = inspected.State?.Health?.Log?.at(-1)
    const output = last ? describeOutput(last.Output, last.ExitCode) : ''
    this.outputs.set(id, { at: performance.now(), output })
    return output
  }
}

/** `Up 3 seconds (healthy)` -> `healthy`; `(health: starting)` -> `starting`; no healthcheck -> undefined. */
export function healthOf(status: string): 'healthy' | 'unhealthy' | 'starting' | undefined {
  if (/\(healthy\)/.test(status)) return 'healthy'
  if (/\(unhealthy\)/.test(status)) return 'unhealthy'
  if (/\(health: starting\)/.test(status)) return 'starting'
  return undefined
}

/** A healthcheck's output on one line, quoted, at most 300 characters, with its exit code. */
function describeOutput(output: string, exitCode: number): string {
  const line = output.trim().replace(/\s*\n\s*/g, ' | ')
  const shown = line.length > 300 ? `${line.slice(0, 300)}…` : line
  return `${JSON.stringify(shown)} (exit ${exitCode})`
}
