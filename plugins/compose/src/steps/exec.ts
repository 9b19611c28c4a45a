import { defineOutput, defineStep, lazySchema, OperationError, UsageError } from '@berth/contract'
import * as z from 'zod'
import { projectContainers, serviceNotReady } from '../hooks/wait.js'
import { runCompose } from '../run.js'
import { assertFilesExist, composeSession } from './context.js'
import { declaredServices } from './instances.js'
import type { LogsOutput } from './logs.js'

const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/

/** `output.exec`: what `berth exec --json` reports. */
export const execOutput = defineOutput(
  'exec',
  lazySchema(() =>
    z.object({
      service: z.string(),
      command: z.array(z.string()),
      /** The command's own exit code (berth exits with it); null when it was killed. */
      exitCode: z.number().int().nullable(),
      durationMs: z.number().int().min(0),
      /** With `--json` only: its output (stdout and stderr interleaved), secrets redacted. */
      output: z.string().optional(),
    }),
  ),
  { description: 'the command run in a service: its exit code and, with --json, its output' },
)

/**
 * `compose.exec` (`berth exec <service> -- CMD…`): `compose exec -T <service> CMD…` in the
 * current instance's project — no `-p`/`-f` to type. Output is streamed line by line with secrets
 * redacted (so no TTY is allocated; stdin is passed through when it is a pipe or a file, for
 * `< dump.sql`); with `--json` it goes to
 * stderr and into `output.exec.output`. berth exits with the command's exit code.
 */
export function composeExecStep(output: LogsOutput) {
  return defineStep({
    description: 'run a command in a running service of this instance (compose exec -T), output redacted',
    effect: 'write',
    outputs: [execOutput],
    plan: (ctx) => `compose exec -T ${ctx.args.positionals.join(' ')}`,
    async run(ctx) {
      const [service, ...command] = ctx.args.positionals
      if (!service || !SERVICE.test(service)) {
        throw new UsageError(`${JSON.stringify(service ?? '')} is not a service name`, {
          hint: 'usage: berth exec <service> -- <command> [args…]',
        })
      }
      if (command.length === 0) {
        throw new UsageError(`no command to run in ${service}`, {
          hint: `put it after --, e.g. berth exec ${service} -- sh -c 'echo hello'`,
        })
      }
      const session = await composeSession(ctx, 'compose.exec')
      assertFilesExist(session.files)
      const notReady = serviceNotReady(await projectContainers(session.project), service)
      if (notReady?.endsWith('has no container')) {
        const declared = declaredServices(session.files, session.config.profiles)
        if (declared && !declared.includes(service)) {
          throw new UsageError(`the compose project has no service ${JSON.stringify(service)}`, {
            code: 'E_NO_SERVICE',
            hint: `name one of: ${declared.join(', ')}`,
          })
        }
      }
      if (notReady && !/starting|unhealthy/.test(notReady)) {
        throw new OperationError(`cannot exec in ${service}: ${notReady}`, {
          code: 'E_NOT_RUNNING',
          hint: `start the stack with \`berth ${session.instance.kind === 'local-prod' ? 'local-prod' : 'sandbox'} up\``,
        })
      }
      const json = ctx.json === true
      const kept: string[] = []
      const started = performance.now()
      const result = await runCompose(['exec', '-T', service, ...command], {
        ...session.options,
        // A pipe or a file (`< dump.sql`) is passed on; a terminal is not: compose runs in its own
        // process group, which may not read from the terminal (and -T gives it no TTY anyway).
        inheritStdin: !json && !process.stdin.isTTY,
        discardOutput: true,
        onLine: (line, stream) => {
          const clean = ctx.redactor.redact(line)
          if (json) kept.push(clean)
          output[json ? 'stderr' : stream].write(`${clean}\n`)
        },
      })
      if (ctx.signal.aborted) throw new OperationError('interrupted', { code: 'E_INTERRUPTED' })
      ctx.output.exec = {
        service,
        command,
        exitCode: result.exitCode,
        durationMs: Math.round(performance.now() - started),
        ...(json ? { output: kept.join('\n') } : {}),
      }
      ctx.exitCode = result.exitCode ?? 1
    },
  })
}
