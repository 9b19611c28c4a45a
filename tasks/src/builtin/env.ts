import { existsSync, promises } from 'node:fs'
import { dirname, join } from 'node:path'
import {
  defineOutput,
  definePlugin,
  defineSection,
  defineState,
  defineStep,
  findEnvFile,
  flag,
  formatEnvFile,
  type InstanceRecord,
  lazySchema,
  OperationError,
  type Plugin,
  parseEnvFile,
  type Repair,
  type TaskContext,
  UsageError,
} from '@berth/contract'
import { excludeFromGit } from '@berth/git'
import * as z from 'zod'

/** node:fs/promises, loaded on first use (a command that only reads starts faster, issue 16). */
const fsp = () => promises

export const urlConfigSchema = lazySchema(() =>
  z
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
    .prefault({}),
)

export const urlSection = defineSection('url', urlConfigSchema)

/** The identity and port lines of an instance's `.env.sandbox` (never secrets). */
export function sandboxEnv(instance: InstanceRecord, ports: Record<string, number> = instance.ports ?? {}) {
  const values: Record<string, string> = {
    INSTANCE_ID: instance.id,
    COMPOSE_PROJECT_NAME: instance.id,
    SLOT_NUMBER: String(instance.slot ?? ''),
  }
  for (const [name, port] of Object.entries(ports)) values[name] = String(port)
  return values
}

const isInit = (task: string) => task.endsWith('.init')

export const envFileOutput = defineOutput(
  'envFile',
  lazySchema(() => z.string()),
  {
    description: "the instance's .env.sandbox that env.write wrote",
    render: (file, view) => (isInit(view.task) ? [`wrote ${file}`] : []),
  },
)

export const envOutput = defineOutput(
  'env',
  lazySchema(() => z.record(z.string(), z.string())),
  {
    description:
      'the values written to .env.sandbox: INSTANCE_ID, COMPOSE_PROJECT_NAME, SLOT_NUMBER, one line per port',
    render: (env, view) => (view.task === 'sandbox.init' ? Object.entries(env).map(([k, v]) => `  ${k}=${v}`) : []),
  },
)

export const apiUrlOutput = defineOutput(
  'apiUrl',
  lazySchema(() => z.string()),
  {
    description: "the API's URL on this instance (url.portVar)",
    render: (url, view) => (isInit(view.task) ? [] : [`API: ${url}`]),
  },
)

export const urlOutput = defineOutput(
  'url',
  lazySchema(() => z.string()),
  {
    description: 'the resolved API URL',
    render: (url) => [url],
  },
)

export const urlSourceOutput = defineOutput(
  'source',
  lazySchema(() => z.string()),
  {
    description: 'where the URL came from: --url, --port, the .env.sandbox file read, or default',
  },
)

/** What env.write replaced, for its undo (null: there was no file). */
const written = defineState<{ file: string; previous: string | null }>('env.written')
const removed = defineState<{ file: string; previous: string | null }>('env.removed')

const portSchema = lazySchema(() =>
  z
    .string()
    .regex(/^\d{1,5}$/, 'must be a port number, e.g. --port 8001')
    .transform(Number)
    .refine((n) => n >= 1 && n <= 65535, 'must be a port number from 1 to 65535'),
)
const urlSchema = lazySchema(() =>
  z.string().refine((url) => URL.canParse(url) && /^https?:$/.test(new URL(url).protocol), {
    message: 'must be an http(s) URL, e.g. --url http://localhost:8001',
  }),
)

/**
 * `env.write`: the instance's `.env.sandbox` from the ports `ports.check` settled (the claim's),
 * plus what other plugins add (`instanceEnv`: shared-data folders). The only writer of the file.
 */
const writeStep = defineStep({
  description: 'writes .env.sandbox (INSTANCE_ID, COMPOSE_PROJECT_NAME, SLOT_NUMBER, ports) into the instance',
  config: urlSection,
  outputs: [envFileOutput, envOutput, apiUrlOutput],
  async run(ctx) {
    const instance = ctx.instance
    if (!instance) throw new OperationError('env.write needs an instance from an earlier step')
    if (instance.slot !== null && !ctx.ports) throw new OperationError('env.write needs the ports from ports.check')
    const extra = await ctx.services.instanceEnv?.(instance)
    const values = { ...sandboxEnv(instance, ctx.ports ?? {}), ...extra }
    const file = join(instance.path, '.env.sandbox')
    written.set(ctx, { file, previous: existsSync(file) ? await fsp().readFile(file, 'utf8') : null })
    await writeEnvFile(file, values, instance.id)
    await excludeFromGit(instance.path, ['.env.sandbox', '.sandbox/']).catch((error: Error) =>
      ctx.log.warn(`could not add .env.sandbox to .git/info/exclude: ${error.message}`),
    )
    ctx.env = { ...ctx.env, ...values }
    ctx.output.envFile = file
    ctx.output.env = values
    const { portVar, host } = ctx.settings
    if (values[portVar]) ctx.output.apiUrl = `http://${host}:${values[portVar]}`
  },
  async undo(ctx) {
    const state = written.get(ctx)
    if (!state) return
    if (state.previous === null)
      await fsp()
        .unlink(state.file)
        .catch(() => {})
    else await fsp().writeFile(state.file, state.previous)
  },
})

/**
 * `env.read`: the instance's `.env.sandbox` (identity, slot, ports, shared folders) into `ctx.env`
 * for the steps after it — the compose environment, the gate's `${VAR}`s, the port check.
 */
const readStep = defineStep({
  description: "reads the instance's .env.sandbox into the task's environment",
  uses: [],
  async run(ctx) {
    if (!ctx.instance) throw new OperationError('env.read needs an instance from an earlier step')
    const file = join(ctx.instance.path, '.env.sandbox')
    if (!existsSync(file)) {
      ctx.log.debug(`${file} is missing ('berth doctor --fix' writes it again)`)
      return
    }
    ctx.env = { ...parseEnvFile(await fsp().readFile(file, 'utf8'), file), ...ctx.env }
  },
})

const removeStep = defineStep({
  description: "removes the instance's .env.sandbox (its slot is being released)",
  effect: 'write',
  plan: (ctx) => `remove ${ctx.instance ? join(ctx.instance.path, '.env.sandbox') : '.env.sandbox'}`,
  async run(ctx) {
    if (!ctx.instance) return
    const file = join(ctx.instance.path, '.env.sandbox')
    const previous = existsSync(file) ? await fsp().readFile(file, 'utf8') : null
    removed.set(ctx, { file, previous })
    if (previous !== null) await fsp().unlink(file)
  },
  async undo(ctx) {
    const state = removed.get(ctx)
    if (state?.previous != null && existsSync(dirname(state.file))) await fsp().writeFile(state.file, state.previous)
  },
})

const urlStep = defineStep({
  description: 'resolves the API URL: --url, then --port, then .env.sandbox upward, then the default',
  uses: [],
  flags: {
    url: flag.parsed(urlSchema, 'an explicit URL (wins over everything)', { value: 'U' }),
    port: flag.parsed(portSchema, 'a port on 127.0.0.1', { value: 'P' }),
  },
  config: urlSection,
  outputs: [urlOutput, urlSourceOutput],
  async run(ctx) {
    const config = ctx.settings
    const { url, port } = ctx.flags
    if (url !== undefined) {
      ctx.output.url = url
      ctx.output.source = '--url'
      return
    }
    if (port !== undefined) {
      ctx.output.url = `http://${config.host}:${port}`
      ctx.output.source = '--port'
      return
    }
    const file = findEnvFile(ctx.cwd)
    if (file) {
      const value = parseEnvFile(await fsp().readFile(file, 'utf8'), file)[config.portVar]
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
})

/**
 * `berth:env` — the instance's `.env.sandbox` (identity, slot, ports): the source of truth
 * compose's `--env-file` and `source` both read, written and read by this plugin's steps only;
 * and the API URL for `berth url`.
 */
export function envPlugin(): Plugin {
  return definePlugin({
    name: 'berth:env',
    version: '0.1.0',
    sections: [urlSection],
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
          await writeEnvFile(file, { ...sandboxEnv(instance), ...extra }, instance.id)
        }
        repairs.push({
          action: `write ${file} (slot ${instance.slot}${why})`,
          status: dryRun ? 'planned' : 'fixed',
        })
      }
      return repairs
    },
    steps: { write: writeStep, read: readStep, remove: removeStep, url: urlStep },
  })
}

async function writeEnvFile(file: string, values: Record<string, string>, id: string): Promise<void> {
  const text = formatEnvFile(values, `berth instance ${id} — generated; do not edit (no secrets here)`)
  const temp = `${file}.tmp-${process.pid}`
  await fsp().writeFile(temp, text, { mode: 0o644 })
  await fsp().rename(temp, file)
}

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
      written = parseEnvFile(await fsp().readFile(file, 'utf8'), file)
    } catch (error) {
      off.push({ instance, differences: [`unreadable (${(error as Error).message})`] })
      continue
    }
    const expected = sandboxEnv(instance)
    const differences = Object.entries(expected)
      .filter(([name]) => name !== 'COMPOSE_PROJECT_NAME' && name !== 'INSTANCE_ID')
      .filter(([name, value]) => written[name] !== undefined && written[name] !== value)
      .map(([name, value]) => `${name}=${written[name]!.slice(0, 40)} (claim: ${value})`)
    if (differences.length > 0) off.push({ instance, differences })
  }
  return off
}

/** Registered instances with a slot whose folder exists but whose `.env.sandbox` is missing. */
async function instancesWithoutEnvFile(ctx: TaskContext): Promise<InstanceRecord[]> {
  const instances = (await ctx.services.listInstances?.()) ?? []
  return instances.filter((i) => i.slot !== null && existsSync(i.path) && !existsSync(join(i.path, '.env.sandbox')))
}
