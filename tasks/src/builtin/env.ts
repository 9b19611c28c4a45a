import { existsSync } from 'node:fs'
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import {
  definePlugin,
  findEnvFile,
  formatEnvFile,
  type InstanceRecord,
  OperationError,
  type Plugin,
  parseEnvFile,
  type Repair,
  readSection,
  type TaskContext,
  UsageError,
} from '@berth/contract'
import { z } from 'zod'
import { excludeFromGit } from './git.js'

export const urlConfigSchema = z
  .object({
    /** The `.env.sandbox` variable holding the API's host port. */
    portVar: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/)
      .default('KTRDR_API_PORT'),
    host: z.string().default('localhost'),
    default: z.url().default('http://localhost:8000'),
  })
  .strict()
  .default({ portVar: 'KTRDR_API_PORT', host: 'localhost', default: 'http://localhost:8000' })

/** The identity and port lines of an instance's `.env.sandbox` (never secrets). */
export function sandboxEnv(ctx: TaskContext, instance = ctx.instance): Record<string, string> {
  if (!instance) throw new OperationError('env.write needs an instance from an earlier step')
  // The claim's recorded ports are the instance's; the current layout only for an unclaimed one.
  const ports =
    instance.ports ??
    (instance === ctx.instance ? ctx.ports : undefined) ??
    (instance.slot === null ? {} : (ctx.services.slotPorts?.(instance.slot) ?? {}))
  const values: Record<string, string> = {
    INSTANCE_ID: instance.id,
    COMPOSE_PROJECT_NAME: instance.id,
    SLOT_NUMBER: String(instance.slot ?? ''),
  }
  for (const [name, port] of Object.entries(ports)) values[name] = String(port)
  return values
}

/**
 * `berth:env` — writes the instance's `.env.sandbox` (identity, slot, ports), the source of truth
 * compose's `--env-file` and `source` both read; and resolves the API URL for `berth url`.
 */
export function envPlugin(): Plugin {
  return definePlugin({
    name: 'berth:env',
    version: '0.1.0',
    config: { url: urlConfigSchema },
    async diagnose(ctx) {
      const missing = await instancesWithoutEnvFile(ctx)
      const found = missing.map((instance) => ({
        check: 'env file',
        status: 'warn' as const,
        detail: `${instance.id} has no .env.sandbox at ${instance.path}`,
        hint: "'berth doctor --fix' writes it again from the registry",
      }))
      for (const { instance, differences } of await envFilesOffClaim(ctx)) {
        found.push({
          check: 'env file',
          status: 'warn' as const,
          detail: `${instance.id}: ${join(instance.path, '.env.sandbox')} differs from its claim: ${differences.join(', ')}`,
          hint: "'berth doctor --fix' writes it again from the registry (sandbox up refuses to start it as it is)",
        })
      }
      return found
    },
    async repair(ctx, { dryRun }) {
      const repairs: Repair[] = []
      const rewrite = [
        ...(await instancesWithoutEnvFile(ctx)).map((instance) => ({ instance, why: '' })),
        ...(await envFilesOffClaim(ctx)).map(({ instance, differences }) => ({
          instance,
          why: `, was ${differences.join(', ')}`,
        })),
      ]
      for (const { instance, why } of rewrite) {
        const file = join(instance.path, '.env.sandbox')
        if (!dryRun) {
          const extra = await ctx.services.instanceEnv?.(instance)
          await writeEnvFile(file, { ...sandboxEnv(ctx, instance), ...extra }, instance.id)
        }
        repairs.push({
          action: `write ${file} (slot ${instance.slot}${why})`,
          status: dryRun ? 'planned' : 'fixed',
        })
      }
      return repairs
    },
    steps: {
      write: {
        description: 'writes .env.sandbox (INSTANCE_ID, COMPOSE_PROJECT_NAME, SLOT_NUMBER, ports) into the instance',
        async run(ctx) {
          const extra = ctx.instance ? await ctx.services.instanceEnv?.(ctx.instance) : undefined
          const values = { ...sandboxEnv(ctx), ...extra }
          const file = join(ctx.instance!.path, '.env.sandbox')
          const previous = existsSync(file) ? await readFile(file, 'utf8') : null
          ctx.state.env = { file, previous }
          const text = formatEnvFile(
            values,
            `berth instance ${ctx.instance!.id} — generated; do not edit (no secrets here)`,
          )
          const temp = `${file}.tmp-${process.pid}`
          await writeFile(temp, text, { mode: 0o644 })
          await rename(temp, file)
          await excludeFromGit(ctx.instance!.path, ['.env.sandbox', '.sandbox/']).catch((error: Error) =>
            ctx.log.warn(`could not add .env.sandbox to .git/info/exclude: ${error.message}`),
          )
          ctx.env = { ...ctx.env, ...values }
          ctx.output.envFile = file
          ctx.output.env = values
          const { portVar, host } = readSection(ctx, 'url', urlConfigSchema)
          if (values[portVar]) ctx.output.apiUrl = `http://${host}:${values[portVar]}`
        },
        async undo(ctx) {
          const state = ctx.state.env as { file: string; previous: string | null } | undefined
          if (!state) return
          if (state.previous === null) await unlink(state.file).catch(() => {})
          else await writeFile(state.file, state.previous)
        },
      },
      remove: {
        description: "removes the instance's .env.sandbox (its slot is being released)",
        plan: (ctx) => `remove ${ctx.instance ? join(ctx.instance.path, '.env.sandbox') : '.env.sandbox'}`,
        async run(ctx) {
          if (!ctx.instance) return
          const file = join(ctx.instance.path, '.env.sandbox')
          const previous = existsSync(file) ? await readFile(file, 'utf8') : null
          ctx.state.envRemoved = { file, previous }
          if (previous !== null) await unlink(file)
        },
        async undo(ctx) {
          const state = ctx.state.envRemoved as { file: string; previous: string | null } | undefined
          if (state?.previous != null && existsSync(dirname(state.file))) await writeFile(state.file, state.previous)
        },
      },
      url: {
        description: 'resolves the API URL: --url, then --port, then .env.sandbox upward, then the default',
        async run(ctx) {
          const config = readSection(ctx, 'url', urlConfigSchema)
          const { url, port } = ctx.args.flags
          if (typeof url === 'string') {
            if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
              throw new UsageError(`--url ${JSON.stringify(url)} is not an http(s) URL`, {
                hint: 'e.g. --url http://localhost:8001',
              })
            }
            ctx.output.url = url
            ctx.output.source = '--url'
            return
          }
          if (typeof port === 'string') {
            const n = Number(port)
            if (!/^\d+$/.test(port) || n < 1 || n > 65535) {
              throw new UsageError(`--port ${JSON.stringify(port)} is not a port number`, {
                hint: 'use 1..65535, e.g. --port 8001',
              })
            }
            ctx.output.url = `http://${config.host}:${n}`
            ctx.output.source = '--port'
            return
          }
          const file = findEnvFile(ctx.cwd)
          if (file) {
            const value = parseEnvFile(await readFile(file, 'utf8'), file)[config.portVar]
            if (value) {
              if (!/^\d{1,5}$/.test(value) || Number(value) < 1 || Number(value) > 65535) {
                throw new UsageError(
                  `${config.portVar} in ${file} is not a port number: ${JSON.stringify(value.slice(0, 40))}`,
                  {
                    hint: "delete the file and run 'berth doctor --fix' to write it again from the registry",
                  },
                )
              }
              ctx.output.url = `http://${config.host}:${value}`
              ctx.output.source = file
              return
            }
          }
          ctx.output.url = config.default
          ctx.output.source = 'default'
        },
      },
    },
  })
}

async function writeEnvFile(file: string, values: Record<string, string>, id: string): Promise<void> {
  const text = formatEnvFile(values, `berth instance ${id} — generated; do not edit (no secrets here)`)
  const temp = `${file}.tmp-${process.pid}`
  await writeFile(temp, text, { mode: 0o644 })
  await rename(temp, file)
}

/** Registered instances with a slot whose folder exists but whose `.env.sandbox` is missing. */
/**
 * Registered instances whose `.env.sandbox` gives the slot or a port another value than the
 * claim (a hand edit): `KTRDR_API_PORT=8002 (claim: 8001)` for each difference.
 */
async function envFilesOffClaim(ctx: TaskContext): Promise<{ instance: InstanceRecord; differences: string[] }[]> {
  const off: { instance: InstanceRecord; differences: string[] }[] = []
  for (const instance of (await ctx.services.listInstances?.()) ?? []) {
    const file = join(instance.path, '.env.sandbox')
    if (instance.slot === null || !existsSync(file)) continue
    let written: Record<string, string>
    try {
      written = parseEnvFile(await readFile(file, 'utf8'), file)
    } catch (error) {
      off.push({ instance, differences: [`unreadable (${(error as Error).message})`] })
      continue
    }
    const expected = sandboxEnv(ctx, instance)
    const differences = Object.entries(expected)
      .filter(([name]) => name !== 'COMPOSE_PROJECT_NAME' && name !== 'INSTANCE_ID')
      .filter(([name, value]) => written[name] !== undefined && written[name] !== value)
      .map(([name, value]) => `${name}=${written[name]!.slice(0, 40)} (claim: ${value})`)
    if (differences.length > 0) off.push({ instance, differences })
  }
  return off
}

async function instancesWithoutEnvFile(ctx: TaskContext): Promise<InstanceRecord[]> {
  const instances = (await ctx.services.listInstances?.()) ?? []
  return instances.filter((i) => i.slot !== null && existsSync(i.path) && !existsSync(join(i.path, '.env.sandbox')))
}
