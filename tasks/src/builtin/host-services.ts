import { connect } from 'node:net'
import {
  type Diagnosis,
  defineOutput,
  definePlugin,
  defineSection,
  defineStep,
  type HostService,
  INSTANCE_KINDS,
  lazySchema,
  OperationError,
  type Plugin,
  type TaskContext,
} from '@berth/contract'
import * as z from 'zod'

/**
 * The `hostServices` section: services running natively on the host (an IB gateway, a GPU
 * training service) that instances of the listed kinds reach as `host.docker.internal`. Docker
 * Desktop has that name already; a Linux engine only when the container is given `host-gateway`,
 * which berth's rendered compose file does for those kinds (local-prod by default). Sandboxes get
 * nothing of it unless `kinds` names them.
 */
export const hostServicesConfigSchema = lazySchema(() =>
  z
    .strictObject({
      /** Instance kinds whose containers get `host.docker.internal` -> the engine's host gateway. */
      kinds: z.array(z.enum(INSTANCE_KINDS)).default(['local-prod']),
      /** The host services those instances use: `doctor` checks each answers on 127.0.0.1. */
      services: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a short name, e.g. ib-gateway'),
            port: z.number().int().min(1).max(65535),
          }),
        )
        .default([]),
      /** Also check them before the gate (`hostServices.check`): a service that does not answer fails the start. */
      gate: z.boolean().default(false),
      /** Seconds each service gets to answer, in doctor and the gate check. */
      timeout: z.number().min(0.1).max(60).default(2),
    })
    .prefault({}),
)

export const hostServicesSection = defineSection('hostServices', hostServicesConfigSchema)

/** True when something accepts a TCP connection on 127.0.0.1:`port` within `ms`. */
export function answersOnLoopback(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    const done = (answered: boolean) => {
      socket.destroy()
      resolve(answered)
    }
    socket.setTimeout(ms, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

const hostChecksOutput = defineOutput(
  'hostServices',
  lazySchema(() => z.array(z.object({ name: z.string(), port: z.number(), answered: z.boolean() }))),
  {
    description: 'the host services this instance reaches as host.docker.internal, and whether each answered',
    render: (checks) =>
      checks.map((c) => `host service ${c.name} (127.0.0.1:${c.port}): ${c.answered ? 'answers' : 'does not answer'}`),
  },
)

/**
 * `hostServices.check`: with `hostServices.gate: true`, each listed host service must answer on
 * 127.0.0.1 before the gate runs, for the kinds that reach them. Read-only; exits 1 (`E_GATE`).
 */
const checkStep = defineStep({
  description: 'with hostServices.gate: each host service this instance reaches answers on 127.0.0.1',
  config: hostServicesSection,
  outputs: [hostChecksOutput],
  async run(ctx) {
    const settings = ctx.settings
    const kind = ctx.instance?.kind
    if (!settings.gate || !kind || !settings.kinds.includes(kind) || settings.services.length === 0) return
    const checks = await Promise.all(
      settings.services.map(async (service) => ({
        ...service,
        answered: await answersOnLoopback(service.port, settings.timeout * 1000),
      })),
    )
    ctx.output.hostServices = checks
    const silent = checks.filter((c) => !c.answered)
    if (silent.length > 0) {
      throw new OperationError(
        `host service${silent.length === 1 ? '' : 's'} ${silent.map((c) => `${c.name} (127.0.0.1:${c.port})`).join(', ')} did not answer`,
        {
          code: 'E_GATE',
          hint: 'start it on the host (its containers reach it as host.docker.internal), or set hostServices.gate: false',
          details: { hostServices: checks },
        },
      )
    }
  },
})

async function diagnoseHostServices(ctx: TaskContext): Promise<Diagnosis[]> {
  const settings = hostServicesSection.read(ctx)
  return Promise.all(
    settings.services.map(async (service): Promise<Diagnosis> => {
      const where = `127.0.0.1:${service.port}`
      const answered = await answersOnLoopback(service.port, settings.timeout * 1000)
      return answered
        ? {
            check: `host service ${service.name}`,
            status: 'ok',
            detail: `answers on ${where} (${settings.kinds.join(', ')} reach it as host.docker.internal)`,
          }
        : {
            check: `host service ${service.name}`,
            status: 'warn',
            detail: `nothing answers on ${where}`,
            hint: `start ${service.name} on the host; ${settings.kinds.join(', ')} containers reach it as host.docker.internal:${service.port}`,
          }
    }),
  )
}

/** `berth:hostServices` — host services instances reach through the engine's host gateway. */
export function hostServicesPlugin(): Plugin {
  return definePlugin({
    name: 'berth:hostServices',
    version: '0.1.0',
    sections: [hostServicesSection],
    services: (ctx: TaskContext) => ({
      hostServices: (kind): HostService[] | undefined => {
        const settings = hostServicesSection.read(ctx)
        return settings.kinds.includes(kind) ? settings.services : undefined
      },
    }),
    diagnose: diagnoseHostServices,
    steps: { check: checkStep },
  })
}
