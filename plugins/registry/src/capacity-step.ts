import {
  type Diagnosis,
  defineOutput,
  defineState,
  defineStep,
  flag,
  lazySchema,
  OperationError,
  type TaskContext,
  type UsageError,
} from '@berth/contract'
import * as z from 'zod'
import {
  describeStack,
  releaseTicket,
  reservePlace,
  runningCap,
  type StartTicket,
  stacksHoldingPlaces,
} from './capacity.js'
import { commandLine } from './lock-step.js'
import { limitsSection } from './schema.js'

/** The reservation this command holds, between `registry.capacity` and the plugin's `finalize`. */
const reservation = defineState<StartTicket>('registry.reservation')

/** Default bound of `--queue`: half an hour, after which the command exits 3 as without it. */
const DEFAULT_QUEUE_TIMEOUT_S = 1800

const runningStackSchema = lazySchema(() =>
  z.object({
    id: z.string(),
    project: z.string(),
    path: z.string(),
    state: z.enum(['running', 'starting']),
    command: z.string().optional(),
    pid: z.number().int().optional(),
  }),
)

export const capacityOutput = defineOutput(
  'capacity',
  lazySchema(() =>
    z.object({
      maxRunning: z.number().int(),
      source: z.enum(['BERTH_MAX_RUNNING', 'limits.maxRunning']),
      /** The other stacks holding a place when this one got its own. */
      running: z.array(runningStackSchema),
      /** False when the instance was running already (an `up` of it adds no stack). */
      reserved: z.boolean(),
      /** Seconds spent waiting in the queue (`--queue`). */
      waitedSeconds: z.number(),
    }),
  ),
  {
    description:
      'with a cap on running stacks (limits.maxRunning / BERTH_MAX_RUNNING): the cap, the other stacks holding a place, and how long --queue waited',
    render: (value) =>
      value.waitedSeconds >= 1
        ? [`got a free place after waiting ${Math.round(value.waitedSeconds)} s (cap ${value.maxRunning})`]
        : [],
  },
)

/**
 * `registry.capacity`: takes one of the machine's places for the stack this command starts
 * (`limits.maxRunning`, `BERTH_MAX_RUNNING`) before anything is created or started. Full: exit 3
 * naming the running stacks, or with `--queue` wait for one to stop. The place is held (as a
 * starting stack) until the command ends; by then its containers run and count themselves.
 */
export const capacityStep = defineStep({
  description: "takes a place under the machine's cap on running stacks (full: exit 3, or wait with --queue)",
  effect: 'write',
  config: limitsSection,
  flags: {
    queue: flag.boolean('when the cap on running stacks is reached, wait for a stack to stop instead of exiting 3'),
    'queue-timeout': flag.parsed(
      lazySchema(() => z.coerce.number().positive().max(86_400)),
      `with --queue: give up (exit 3) after S seconds (default ${DEFAULT_QUEUE_TIMEOUT_S})`,
      { value: 'S' },
    ),
  },
  outputs: [capacityOutput],
  validate(ctx) {
    runningCap(ctx.settings.maxRunning)
  },
  async plan(ctx) {
    const cap = runningCap(ctx.settings.maxRunning)
    if (!cap) return 'no cap on running stacks (limits.maxRunning, BERTH_MAX_RUNNING)'
    const { stacks, selfRunning } = await stacksHoldingPlaces(ctx.home, ctx.instance?.id ?? '')
    if (selfRunning) return `the stack runs already: the cap of ${cap.max} does not apply`
    return `take a place under the cap of ${cap.max} running stacks (${cap.source}); held now: ${stacks.length}${stacks.length >= cap.max ? ` — full: ${stacks.map(describeStack).join('; ')}` : ''}`
  },
  async run(ctx) {
    const cap = runningCap(ctx.settings.maxRunning)
    if (!cap) return
    const instance = ctx.instance
    if (!instance) throw new OperationError('registry.capacity needs an instance from an earlier step')
    const queueTimeout = ctx.flags['queue-timeout'] ?? DEFAULT_QUEUE_TIMEOUT_S
    const result = await reservePlace({
      home: ctx.home,
      instance: { id: instance.id, project: instance.project, path: instance.path },
      cap,
      command: commandLine(ctx),
      queue: ctx.flags.queue === true,
      queueTimeoutMs: queueTimeout * 1000,
      signal: ctx.signal,
      onWait: (stacks) =>
        ctx.log.info(
          `waiting for a free place: the cap of ${cap.max} running stacks (${cap.source}) is reached by ${stacks.map(describeStack).join('; ')} (up to ${queueTimeout} s; Ctrl-C stops waiting)`,
        ),
    })
    if (result.ticket) reservation.set(ctx, result.ticket)
    ctx.output.capacity = {
      maxRunning: cap.max,
      source: cap.source,
      running: result.others,
      reserved: result.ticket !== undefined,
      waitedSeconds: Math.round(result.waitedMs / 100) / 10,
    }
  },
  // No undo: the place is given back by the plugin's `finalize`, after the run and any rollback
  // (so a rolled-back impl lists only the steps that changed something).
})

/** Gives the place back (the plugin's `finalize`, after the pipeline and any rollback). */
export async function releaseReservation(ctx: TaskContext): Promise<void> {
  const ticket = reservation.get(ctx)
  if (!ticket) return
  await releaseTicket(ctx.home, ticket)
  reservation.delete(ctx)
}

/**
 * `berth doctor`: with a cap in force, how many stacks hold a place and which. A warning when more
 * do than the cap allows (it was lowered, or stacks were started by hand): every new `up` waits
 * or is refused until enough of them stop.
 */
export async function diagnoseCapacity(ctx: TaskContext): Promise<Diagnosis[]> {
  let cap: ReturnType<typeof runningCap>
  try {
    cap = runningCap(limitsSection.read(ctx).maxRunning)
  } catch (error) {
    const e = error as UsageError
    return [
      { check: 'running stacks', status: 'fail', detail: e.message, ...(e.hint ? { hint: e.hint } : {}), exitCode: 1 },
    ]
  }
  if (!cap) return []
  // Without an engine the engine's own check says so.
  const held = await stacksHoldingPlaces(ctx.home, '').catch(() => undefined)
  if (!held) return []
  const count = held.stacks.length
  const names = held.stacks.map(describeStack).join('; ')
  return [
    {
      check: 'running stacks',
      status: count > cap.max ? 'warn' : 'ok',
      detail: `${count} of the cap of ${cap.max} (${cap.source})${count > 0 ? `: ${names}` : ''}`,
      ...(count > cap.max
        ? {
            hint: `more than the cap run: every new up waits (--queue) or exits 3 until ${count - cap.max + 1} of them stop`,
          }
        : {}),
    },
  ]
}
