import { ConflictError, type InstanceRecord, type TaskContext, UsageError } from '@berth/contract'
import { findPortHolders } from './holders.js'
import { type PortLayout, slotPorts } from './layout.js'
import { busyPorts } from './probe.js'

/** A port variable whose value in `.env.sandbox` is not the instance's claimed port. */
export interface EnvPortMismatch {
  variable: string
  /** What `.env.sandbox` says (and so what compose would publish). */
  written: string
  /** The port the instance's claim holds for the variable. */
  claimed: number
}

/** The port variables of `ports` that `env` (the `.env.sandbox` values) sets to something else. */
export function envPortMismatches(env: Record<string, string>, ports: Record<string, number>): EnvPortMismatch[] {
  return Object.entries(ports)
    .filter(([variable, port]) => env[variable] !== undefined && env[variable] !== String(port))
    .map(([variable, claimed]) => ({ variable, written: env[variable] as string, claimed }))
}

/**
 * Refuses (exit 3) to start an instance whose `.env.sandbox` was edited to ports other than its
 * claim: compose would publish what the file says, which the port check never looked at — maybe
 * another instance's port or a stranger's — and fail half-way. Names who holds each written port:
 * a process or container that has it now, or the registered instance whose slot it belongs to.
 */
export async function assertEnvMatchesClaim(
  ctx: TaskContext,
  layout: PortLayout,
  ports: Record<string, number>,
): Promise<void> {
  const mismatches = envPortMismatches(ctx.env, ports)
  if (mismatches.length === 0) return
  const file = ctx.instance ? `${ctx.instance.path}/.env.sandbox` : '.env.sandbox'
  for (const { variable, written: value } of mismatches) {
    if (/^\d{1,5}$/.test(value) && Number(value) >= 1 && Number(value) <= 65535) continue
    const shown =
      value.length > 40 ? `${JSON.stringify(value.slice(0, 40))}… (${value.length} characters)` : JSON.stringify(value)
    throw new UsageError(`${variable} in ${file} is not a port number: ${shown}`, {
      code: 'E_ENV_FILE',
      hint: "delete the file and run 'berth doctor --fix' to write it again from the registry",
      details: { variable },
    })
  }
  const written = mismatches.map((m) => Number(m.written))
  const busy = new Set(await busyPorts(written))
  const holders = new Map((await findPortHolders([...busy])).map((holder) => [holder.port, holder.description]))
  const instances = (await ctx.services.listInstances?.()) ?? []
  const owner = (port: number): InstanceRecord | undefined =>
    instances.find(
      (other) =>
        other.id !== ctx.instance?.id &&
        other.slot !== null &&
        Object.values(other.ports ?? slotPorts(layout, other.slot)).includes(port),
    )
  const lines = mismatches.map(({ variable, written: value, claimed }) => {
    const port = Number(value)
    const holder = holders.get(port)
    const other = owner(port)
    const who = holder
      ? `held by ${holder}`
      : other
        ? `slot ${other.slot}'s port, claimed by ${other.id}`
        : 'not this instance’s port'
    return `${variable}=${value} (${who}) where its claim holds ${claimed}`
  })
  throw new ConflictError(`${file} was changed by hand: ${lines.join('; ')}`, {
    code: 'E_ENV_PORT_MISMATCH',
    hint: "undo the edit, or run 'berth doctor --fix' to write .env.sandbox again from the registry (to move the instance, 'berth done' it and 'berth impl … --slot N')",
    details: { mismatches },
  })
}
