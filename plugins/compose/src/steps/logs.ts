import { defineStep, flag, lazySchema, OperationError, type TaskContext, UsageError } from '@berth/contract'
import * as z from 'zod'
import { logsOutput } from '../outputs.js'
import { assertComposeOk, runCompose } from '../run.js'
import { assertFilesExist, composeSession } from './context.js'

/** Where `compose.logs` streams to; the terminal by default. */
export interface LogsOutput {
  stdout: Pick<NodeJS.WritableStream, 'write'>
  stderr: Pick<NodeJS.WritableStream, 'write'>
}

/** `--tail N`: a whole number or `all`. */
const tailSchema = lazySchema(() =>
  z
    .string()
    .trim()
    .regex(/^(\d+|all)$/, 'is not a number of lines (use --tail 100 or --tail all)'),
)

const logsFlags = {
  follow: flag.boolean('keep streaming', { short: 'f' }),
  tail: flag.parsed(tailSchema, 'last N lines per service', { value: 'N' }),
}

/**
 * `compose.logs`: `logs [--follow] [--tail N] [service…]` streamed line by line to the terminal,
 * every line redacted. With `--json` the (redacted) text goes to `ctx.output.logs` instead.
 */
export function composeLogsStep(output: LogsOutput) {
  return defineStep({
    description: "the instance's service logs ([service] --follow --tail N), secrets redacted",
    flags: logsFlags,
    outputs: [logsOutput],
    validate(ctx) {
      if (ctx.flags.follow === true && ctx.json)
        throw new UsageError('--follow cannot be combined with --json', { hint: 'drop one of them' })
      serviceNames(ctx)
    },
    async run(ctx) {
      const session = await composeSession(ctx, 'compose.logs')
      assertFilesExist(session.files)
      const follow = ctx.flags.follow === true
      const json = ctx.json === true
      if (follow && json) throw new UsageError('--follow cannot be combined with --json', { hint: 'drop one of them' })
      const tail = ctx.flags.tail
      const command = ['logs', '--no-color', ...(follow ? ['--follow'] : []), ...(tail ? [`--tail=${tail}`] : [])]
      command.push(...serviceNames(ctx))
      const redact = (line: string) => `${ctx.redactor.redact(line)}\n`
      const result = await runCompose(command, {
        ...session.options,
        inheritStdin: !json,
        discardOutput: !json,
        onLine: json ? undefined : (line, stream) => output[stream].write(redact(line)),
      })
      if (ctx.signal.aborted) return
      if (json) {
        assertComposeOk(result, `compose logs of ${session.project}`, ctx.redactor)
        ctx.output.logs = ctx.redactor.redact(result.stdout)
        return
      }
      if (result.exitCode !== 0) {
        throw new OperationError(`compose logs of ${session.project} failed (exit ${result.exitCode})`, {
          code: 'E_COMPOSE',
          hint: 'see the output above',
        })
      }
    },
  })
}

/** Services named on the command line (`berth sandbox logs api worker`). */
function serviceNames(ctx: TaskContext): string[] {
  for (const name of ctx.args.positionals) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new UsageError(`${JSON.stringify(name)} is not a service name`, {
        hint: 'name a service from the compose file',
      })
    }
  }
  return ctx.args.positionals
}
