import type { BerthServices, Logger, Redactor } from '@berth/contract'
import { lazySchema, OperationError, UsageError } from '@berth/contract'
import * as z from 'zod'
import { tailLines } from '../lines.js'
import { runCompose } from '../run.js'
import type { ComposeSession } from '../steps/context.js'
import type { HookConfig } from './schema.js'
import { waitForServices } from './wait.js'

/** Lines of a hook's output kept in its record (the evidence bundle) and shown when it fails. */
export const HOOK_OUTPUT_LINES = 200
export const HOOK_TAIL_LINES = 20

/** One hook's outcome: `output.hooks[]` in `--json`, `hooks.json` in the evidence bundle. */
export const hookRunSchema = lazySchema(() =>
  z.object({
    name: z.string(),
    when: z.enum(['after-up', 'fresh-volume', 'before-down']),
    service: z.string(),
    mode: z.enum(['exec', 'run']),
    status: z.enum(['passed', 'failed', 'skipped']),
    /** The command's exit code (null when it never ran or was killed). */
    exitCode: z.number().int().nullable(),
    durationMs: z.number().int().min(0),
    /** Why it was skipped (`ran for volume demo_dbdata created …`) or failed before running. */
    reason: z.string().optional(),
    /** The volume a fresh-volume hook ran (or was skipped) for. */
    volume: z.string().optional(),
    /** The last lines of its output (stdout and stderr interleaved), secrets redacted. */
    output: z.string(),
  }),
)
export type HookRun = z.infer<typeof hookRunSchema>

export interface HookRunContext {
  log: Logger
  redactor: Redactor
  signal: AbortSignal
  services: Pick<BerthServices, 'passGateChecks'>
}

/**
 * Runs one hook in its service: waits for the gate checks in `after`, the services in `waitFor`
 * and (for exec) its own service's container, then
 * `compose exec -T` or `compose run --rm -T --no-deps`, with `-e NAME` for each variable it asks
 * for (values stay in compose's environment, never in argv). Output lines are redacted as they
 * arrive. Resolves the record; throws an {@link OperationError} (exit 1) with the output tail
 * when the command fails, times out, or its services never become ready.
 */
export async function runHook(session: ComposeSession, hook: HookConfig, ctx: HookRunContext): Promise<HookRun> {
  const started = performance.now()
  const deadline = started + hook.timeout * 1000
  const what = `hook ${hook.name} (${hook.when}, ${hook.mode} in ${hook.service})`
  const missing = hook.env.filter((name) => session.options.env[name] === undefined)
  if (missing.length > 0) {
    throw new UsageError(
      `${what}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set for this instance`,
      {
        code: 'E_HOOK_CONFIG',
        hint: 'hooks[].env names variables of .env.sandbox or of the secrets (secrets.fields)',
      },
    )
  }
  if (hook.after.length > 0) {
    if (ctx.services.passGateChecks) await ctx.services.passGateChecks(hook.after)
    else ctx.log.warn(`${what}: no plugin runs gate checks, so it does not wait for ${hook.after.join(', ')}`)
  }
  const running = hook.mode === 'exec' ? [hook.service] : []
  await waitForServices(session.project, { healthy: hook.waitFor, running }, deadline, ctx.signal, what)

  const argv = typeof hook.command === 'string' ? ['sh', '-c', hook.command] : hook.command
  const envFlags = hook.env.flatMap((name) => ['-e', name])
  const command =
    hook.mode === 'exec'
      ? ['exec', '-T', ...envFlags, hook.service, ...argv]
      : ['run', '--rm', '-T', '--no-deps', ...envFlags, hook.service, ...argv]
  const lines: string[] = []
  const timeout = AbortSignal.timeout(Math.max(1, Math.round(deadline - performance.now())))
  ctx.log.info(`${what}: ${argv.join(' ')}`)
  const result = await runCompose(command, {
    ...session.options,
    signal: AbortSignal.any([ctx.signal, timeout]),
    onLine: (line) => {
      const clean = ctx.redactor.redact(line)
      lines.push(clean)
      if (lines.length > HOOK_OUTPUT_LINES) lines.shift()
      ctx.log.debug(`${hook.name} | ${clean}`)
    },
  })
  const record: HookRun = {
    name: hook.name,
    when: hook.when,
    service: hook.service,
    mode: hook.mode,
    status: result.exitCode === 0 ? 'passed' : 'failed',
    exitCode: result.exitCode,
    durationMs: Math.round(performance.now() - started),
    output: lines.join('\n'),
  }
  if (ctx.signal.aborted) throw new OperationError('interrupted', { code: 'E_INTERRUPTED' })
  if (result.exitCode === 0) return record
  const tail = tailLines(record.output, HOOK_TAIL_LINES)
  const why = timeout.aborted
    ? `timed out after ${hook.timeout} s`
    : result.exitCode === null
      ? 'was killed'
      : `exited ${result.exitCode}`
  throw new OperationError(`${what} ${why}${tail ? `; last lines of its output:\n${tail}` : ' with no output'}`, {
    code: 'E_HOOK',
    hint: `run it by hand with \`berth exec ${hook.service} -- ${argv.join(' ')}\`; its whole output is in the evidence bundle`,
    details: { hook: record },
  })
}
