import { mkdir, readdir, readFile, rmdir, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConflictError, composeProjectName, InterruptedError, UsageError } from '@berth/contract'
import { engineRequest } from '@berth/engine'
import { ownerAlive, processStartTime, withLock } from './lock.js'
import { readRegistry, type StoreOptions } from './store.js'

/**
 * The machine's cap on running stacks. A stack is running when its compose project has a running
 * container on the engine (a claim of any project and repository in this BERTH_HOME's registry),
 * or starting when a live berth process reserved a place for it and its containers are not up
 * yet. "Count, then reserve" happens under one machine-wide lock (`$BERTH_HOME/capacity.lock`),
 * so two `up`s at once with one place left never both start.
 */

/** Where the cap comes from: the environment wins over the config, so one machine-wide value applies to every repository. */
export type CapSource = 'BERTH_MAX_RUNNING' | 'limits.maxRunning'

export interface RunningCap {
  max: number
  source: CapSource
}

/** A stack holding one of the machine's places. */
export interface RunningStack {
  id: string
  project: string
  path: string
  /** `running`: containers up on the engine; `starting`: a berth process reserved its place. */
  state: 'running' | 'starting'
  /** For a starting stack: the berth command that reserved its place. */
  command?: string | undefined
  pid?: number | undefined
}

/** A reservation: `$BERTH_HOME/starting/<id>.json`, removed when the command that wrote it ends. */
export interface StartTicket {
  id: string
  project: string
  path: string
  pid: number
  startTime?: string | undefined
  command: string
  since: string
}

export function capacityPaths(home: string) {
  return { lock: join(home, 'capacity.lock'), tickets: join(home, 'starting') }
}

/**
 * The cap in force: `BERTH_MAX_RUNNING` when set (`0` turns a configured cap off), else the
 * config's `limits.maxRunning`; undefined when there is none. A malformed variable is exit 2.
 */
export function runningCap(
  configured: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): RunningCap | undefined {
  const raw = env.BERTH_MAX_RUNNING?.trim()
  if (raw !== undefined && raw !== '') {
    if (!/^\d+$/.test(raw) || Number(raw) > 1000) {
      throw new UsageError(`BERTH_MAX_RUNNING=${JSON.stringify(raw)} is not a number of stacks`, {
        code: 'E_MAX_RUNNING',
        hint: 'set it to a whole number from 1 to 1000 (or 0 for no cap), or unset it to use limits.maxRunning',
      })
    }
    const max = Number(raw)
    return max === 0 ? undefined : { max, source: 'BERTH_MAX_RUNNING' }
  }
  return configured === undefined ? undefined : { max: configured, source: 'limits.maxRunning' }
}

/** Compose project names with at least one running container, in one engine request. */
export async function runningProjects(): Promise<Set<string>> {
  const filters = encodeURIComponent(JSON.stringify({ label: ['com.docker.compose.project'], status: ['running'] }))
  const containers = await engineRequest<{ Labels?: Record<string, string> }[]>(`/containers/json?filters=${filters}`, {
    timeoutMs: 10_000,
  })
  return new Set(containers.map((c) => c.Labels?.['com.docker.compose.project'] ?? '').filter(Boolean))
}

/** Live reservations; those of dead processes are removed on the way. */
export async function liveTickets(home: string): Promise<StartTicket[]> {
  const dir = capacityPaths(home).tickets
  const names = await readdir(dir).catch(() => [] as string[])
  const live: StartTicket[] = []
  for (const name of names.filter((n) => n.endsWith('.json'))) {
    const file = join(dir, name)
    const ticket = await readFile(file, 'utf8').then(
      (text) => JSON.parse(text) as StartTicket,
      () => undefined,
    )
    if (ticket && typeof ticket.pid === 'number' && (await ownerAlive(ticket))) live.push(ticket)
    else await unlink(file).catch(() => {})
  }
  return live
}

/**
 * Every stack holding a place now, but `selfId`'s: the registry's claims whose compose project
 * runs, and the live reservations. Read under the capacity lock by the callers that reserve.
 */
export async function stacksHoldingPlaces(
  home: string,
  selfId: string,
  store?: StoreOptions,
): Promise<{ stacks: RunningStack[]; selfRunning: boolean }> {
  const [registry, running, tickets] = await Promise.all([
    readRegistry(home, store),
    runningProjects(),
    liveTickets(home),
  ])
  const stacks: RunningStack[] = []
  const seen = new Set<string>([selfId])
  for (const record of registry.instances) {
    if (seen.has(record.id) || !running.has(composeProjectName(record.id))) continue
    seen.add(record.id)
    stacks.push({ id: record.id, project: record.project, path: record.path, state: 'running' })
  }
  for (const ticket of tickets) {
    if (seen.has(ticket.id)) continue
    seen.add(ticket.id)
    stacks.push({
      id: ticket.id,
      project: ticket.project,
      path: ticket.path,
      state: 'starting',
      command: ticket.command,
      pid: ticket.pid,
    })
  }
  return { stacks, selfRunning: running.has(composeProjectName(selfId)) }
}

/** `acme-impl-a (project acme, /src/acme-impl-a)`, `… starting: pid 4121 berth impl b`. */
export function describeStack(stack: RunningStack): string {
  const what = stack.state === 'starting' ? `, starting: pid ${stack.pid} ${stack.command}` : ''
  return `${stack.id} (project ${stack.project}, ${stack.path}${what})`
}

export interface ReserveRequest {
  home: string
  instance: { id: string; project: string; path: string }
  cap: RunningCap
  command: string
  /** Wait for a free place instead of exiting 3. */
  queue: boolean
  /** With `queue`: give up (exit 3) after this long. */
  queueTimeoutMs: number
  signal: AbortSignal
  /** Called when the queue starts waiting and whenever the stacks it waits for change. */
  onWait(stacks: RunningStack[]): void
  store?: StoreOptions
  /** How often the queue looks again; default 1 s. */
  pollMs?: number
}

export interface Reservation {
  /** The ticket written; undefined when the instance was running already (it adds no stack). */
  ticket: StartTicket | undefined
  /** The other stacks holding places when the reservation was made. */
  others: RunningStack[]
  waitedMs: number
}

/**
 * Counts the stacks holding places and, when one is free, reserves it with a ticket — both under
 * the capacity lock. An instance already running is never refused (`up` again adds no stack).
 * Full: exit 3 naming the stacks, or with `queue` wait (until a place frees, the timeout, or Ctrl-C).
 */
export async function reservePlace(request: ReserveRequest): Promise<Reservation> {
  const started = Date.now()
  const { home, instance, cap } = request
  let lastWaitedFor = ''
  await mkdir(home, { recursive: true, mode: 0o700 })
  for (;;) {
    const attempt = await withLock(capacityPaths(home).lock, async () => {
      const { stacks, selfRunning } = await stacksHoldingPlaces(home, instance.id, request.store)
      if (selfRunning) return { reservation: { ticket: undefined, others: stacks, waitedMs: Date.now() - started } }
      if (stacks.length >= cap.max) return { full: stacks }
      const startTime = await processStartTime(process.pid)
      const ticket: StartTicket = {
        ...instance,
        pid: process.pid,
        ...(startTime ? { startTime } : {}),
        command: request.command,
        since: new Date().toISOString(),
      }
      await writeTicket(home, ticket)
      return { reservation: { ticket, others: stacks, waitedMs: Date.now() - started } }
    })
    if (attempt.reservation) return attempt.reservation
    const full = attempt.full ?? []
    if (!request.queue) throw capReached(cap, full)
    if (Date.now() - started >= request.queueTimeoutMs) throw capReached(cap, full, request.queueTimeoutMs)
    const waitedFor = full.map((s) => `${s.id}:${s.state}`).join(',')
    if (waitedFor !== lastWaitedFor) {
      lastWaitedFor = waitedFor
      request.onWait(full)
    }
    await pause(request.pollMs ?? 1000, request.signal)
  }
}

/**
 * Writes the ticket (under the capacity lock). A release removes the empty `starting/` folder
 * without that lock, so the folder can vanish between the mkdir and the write: made again then.
 */
async function writeTicket(home: string, ticket: StartTicket): Promise<void> {
  const dir = capacityPaths(home).tickets
  for (let attempt = 1; ; attempt++) {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 })
      await writeFile(join(dir, `${ticket.id}.json`), `${JSON.stringify(ticket)}\n`, { mode: 0o600 })
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 20) throw error
    }
  }
}

/** Removes this process's ticket for `id` (never another process's). */
export async function releaseTicket(home: string, ticket: StartTicket): Promise<void> {
  const dir = capacityPaths(home).tickets
  const file = join(dir, `${ticket.id}.json`)
  const current = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as StartTicket,
    () => undefined,
  )
  if (current && current.pid === ticket.pid && current.since === ticket.since) await unlink(file).catch(() => {})
  // BERTH_HOME keeps no empty folder behind.
  await rmdir(dir).catch(() => {})
}

function capReached(cap: RunningCap, stacks: RunningStack[], waitedMs?: number): ConflictError {
  const waited = waitedMs === undefined ? '' : ` (still after waiting ${Math.round(waitedMs / 1000)} s)`
  return new ConflictError(
    `the machine's cap of ${cap.max} running stack${cap.max === 1 ? '' : 's'} (${cap.source}) is reached${waited}: ${stacks.map(describeStack).join('; ')}`,
    {
      code: 'E_CAP_REACHED',
      hint: `stop one of them ('berth done <name>' or 'berth sandbox down' in its folder), raise ${cap.source === 'BERTH_MAX_RUNNING' ? 'BERTH_MAX_RUNNING' : 'limits.maxRunning (or set BERTH_MAX_RUNNING)'}, or run this again with --queue to wait for a free place`,
      details: { maxRunning: cap.max, source: cap.source, running: stacks },
    },
  )
}

async function pause(ms: number, signal: AbortSignal): Promise<void> {
  const interrupted = () =>
    new InterruptedError('interrupted while waiting for a free place; nothing was started', {
      details: { signal: String(signal.reason ?? 'SIGINT'), leftBehind: [] },
    })
  if (signal.aborted) throw interrupted()
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done() {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
  if (signal.aborted) throw interrupted()
}
