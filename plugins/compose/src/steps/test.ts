import { existsSync } from 'node:fs'
import { chmod, mkdir, rmdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  defineStep,
  flag,
  InterruptedError,
  lazySchema,
  listFiles,
  type TaskContext,
  UsageError,
  utcStamp,
} from '@berth/contract'
import * as z from 'zod'
import { type E2eReport, e2eOutput } from '../outputs.js'
import { composeEnvironment } from '../project.js'
import { runCompose } from '../run.js'
import { type ComposeTestConfig, testSection } from '../schema.js'
import { assertFilesExist, composeSession } from './context.js'
import type { LogsOutput } from './logs.js'
import { assertOwnsProject } from './ownership.js'

export type { E2eReport }

/** The resolved `test` section. */
export function testSettings(ctx: TaskContext): ComposeTestConfig {
  return testSection.read(ctx)
}

const serviceFlag = flag.parsed(
  lazySchema(() =>
    z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'is not a service name (name one from the compose file, e.g. e2e)'),
  ),
  'the test service (default: config test.service, e2e)',
  { value: 'NAME' },
)

/**
 * `compose.test`: `run --rm -T <service> [args…]` on the instance's own network, with the same
 * environment as `compose.up` (so the running services are not recreated) plus
 * `BERTH_ARTIFACTS_DIR=<instance>/<test.artifacts>/<UTC time>`. The service's output is streamed,
 * redacted, line by line; its exit code becomes berth's (through `ctx.exitCode`) instead of
 * an error, so the report is still printed and evidence still collected.
 */
export function composeTestStep(output: LogsOutput) {
  return defineStep({
    description: "run the stack's test service (compose run --rm) on the instance's network",
    // Runs the tests and writes artifacts: under --dry-run only the plan is printed.
    effect: 'write',
    flags: { service: serviceFlag },
    config: testSection,
    outputs: [e2eOutput],
    plan: (ctx) =>
      `compose run --rm ${ctx.flags.service ?? ctx.settings.service} ${ctx.args.positionals.join(' ')}`.trim(),
    async run(ctx) {
      const session = await composeSession(ctx, 'compose.test')
      assertFilesExist(session.files)
      await assertOwnsProject(session.instance, session.files, 'run tests in')
      const settings = ctx.settings
      const service = ctx.flags.service ?? settings.service
      const artifactsDir = await createArtifactsDir(join(session.instance.path, settings.artifacts))
      const env = composeEnvironment({
        instance: session.instance,
        env: ctx.env,
        secretEnv: ctx.secretEnv,
        observability: session.config.observability,
        extra: { BERTH_ARTIFACTS_DIR: artifactsDir },
      })
      const json = ctx.json === true
      // With --json stdout carries only the document: the test's own output goes to stderr.
      const write = (line: string, stream: 'stdout' | 'stderr') =>
        output[json ? 'stderr' : stream].write(`${ctx.redactor.redact(line)}\n`)
      ctx.log.info(`running ${service} in compose project ${session.project}; artifacts: ${artifactsDir}`)
      const started = performance.now()
      const result = await runCompose(['run', '--rm', '-T', service, ...ctx.args.positionals], {
        ...session.options,
        env,
        onLine: write,
      })
      if (ctx.signal.aborted) throw new InterruptedError()
      if (result.exitCode !== 0 && /No such service/i.test(result.stderr)) {
        await rmdir(artifactsDir).catch(() => {})
        throw new UsageError(`the compose project has no service ${JSON.stringify(service)}`, {
          code: 'E_NO_TEST_SERVICE',
          hint: 'add the test service to the compose file, or name it with --service NAME or test.service in the config',
        })
      }
      const exitCode = result.exitCode ?? 1
      const report: E2eReport = {
        service,
        exitCode,
        passed: exitCode === 0,
        artifactsDir,
        files: await listFiles(artifactsDir),
        durationMs: Math.round(performance.now() - started),
      }
      ctx.output.e2e = report
      if (exitCode !== 0) {
        ctx.exitCode = exitCode
        ctx.log.warn(`${service} failed (exit ${exitCode}); artifacts: ${artifactsDir}`)
      } else {
        ctx.log.info(`${service} passed; ${report.files.length} artifact file(s) in ${artifactsDir}`)
      }
    },
  })
}

/** `<base>/<UTC time>`, made fresh (a second run in the same second gets `-2`, `-3`, …). */
async function createArtifactsDir(base: string): Promise<string> {
  await mkdir(base, { recursive: true, mode: 0o755 })
  const stamp = utcStamp()
  for (let n = 1; ; n++) {
    const dir = join(base, n === 1 ? stamp : `${stamp}-${n}`)
    if (existsSync(dir)) continue
    await mkdir(dir)
    // The service may run as any user: let it write here (the folder lives inside the checkout).
    await chmod(dir, 0o777)
    return dir
  }
}
