import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import {
  colour,
  type Diagnosis,
  defineOutput,
  definePlugin,
  defineStep,
  diagnosisSchema,
  flag,
  lazySchema,
  type Plugin,
  type Repair,
  repairSchema,
} from '@berth/contract'
import { dockerSocketPath, engineRequest } from '@berth/engine'
import * as z from 'zod'
import { runnerState } from '../runner-state.js'

const run = promisify(execFile)

async function version(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout } = await run(command, args, { timeout: 5000 })
    return stdout.trim().split('\n')[0]
  } catch {
    return undefined
  }
}

/** The runner's own findings: git and the Docker engine. Plugins add theirs through `diagnose`. */
export async function coreDiagnoses(): Promise<Diagnosis[]> {
  const found: Diagnosis[] = []
  const gitVersion = await version('git', ['--version'])
  found.push(
    gitVersion
      ? { check: 'git', status: 'ok', detail: gitVersion }
      : { check: 'git', status: 'fail', detail: 'git not found on PATH', hint: 'install git', exitCode: 4 },
  )
  try {
    const engine = await engineRequest<{ Version: string; ApiVersion: string }>('/version')
    found.push({
      check: 'docker engine',
      status: 'ok',
      detail: `${engine.Version} (API ${engine.ApiVersion}) at ${dockerSocketPath()}`,
    })
  } catch (error) {
    found.push({
      check: 'docker engine',
      status: 'fail',
      detail: (error as Error).message,
      hint: 'start Docker, or set DOCKER_HOST=unix:///path/to/docker.sock',
      exitCode: 4,
    })
  }
  return found
}

const checksOutput = defineOutput(
  'checks',
  lazySchema(() => z.array(diagnosisSchema)),
  {
    description: "every check's finding: ok, warn or fail, with a hint",
    render: (checks) =>
      checks.map((c) => {
        const mark = c.status === 'ok' ? colour.green('✔') : c.status === 'warn' ? colour.yellow('!') : colour.red('✖')
        return `${mark} ${c.check}: ${c.detail}${c.hint && c.status !== 'ok' ? colour.dim(` — ${c.hint}`) : ''}`
      }),
  },
)

const repairsOutput = defineOutput(
  'repairs',
  lazySchema(() => z.array(repairSchema)),
  {
    description: 'with --fix: each repair made (or planned, with --dry-run), skipped or failed',
    render: (repairs) =>
      repairs.map(
        (r) =>
          `${r.status === 'failed' ? colour.red(r.status) : r.status === 'skipped' ? colour.dim(r.status) : colour.green(r.status)} ${r.action}${r.detail ? colour.dim(` — ${r.detail}`) : ''}`,
      ),
  },
)

const dryRunOutput = defineOutput(
  'dryRun',
  lazySchema(() => z.boolean()),
  { description: 'with --fix: the repairs were only planned' },
)
const healthyOutput = defineOutput(
  'healthy',
  lazySchema(() => z.boolean()),
  {
    description: 'no check failed (after the repairs, with --fix)',
  },
)

/** `berth:doctor` — runs every plugin's `diagnose` and reports; changes nothing. */
export function doctorPlugin(): Plugin {
  return definePlugin({
    name: 'berth:doctor',
    version: '0.1.0',
    steps: {
      run: defineStep({
        description: 'checks git, the Docker engine, compose, op, the registry and stale claims',
        flags: {
          fix: flag.boolean(
            'repair what is safe (ghost claims, dead locks, abandoned rollbacks, orphan stacks, clean unregistered worktrees, .env.sandbox)',
          ),
        },
        outputs: [checksOutput, repairsOutput, dryRunOutput, healthyOutput],
        async run(ctx) {
          const runner = runnerState.get(ctx)!
          const results = await Promise.all([
            coreDiagnoses(),
            ...runner.plugins.map(async (plugin) => {
              try {
                return (await plugin.diagnose?.(ctx)) ?? []
              } catch (error) {
                return [
                  { check: plugin.name, status: 'fail', detail: (error as Error).message, exitCode: 1 } as Diagnosis,
                ]
              }
            }),
          ])
          const checks = results.flat()
          ctx.output.checks = checks
          if (ctx.flags.fix === true) {
            const dryRun = ctx.dryRun === true
            const repairs: Repair[] = []
            for (const plugin of runner.plugins) {
              if (!plugin.repair) continue
              try {
                repairs.push(...(await plugin.repair(ctx, { dryRun })))
              } catch (error) {
                repairs.push({ action: `${plugin.name} repair`, status: 'failed', detail: (error as Error).message })
              }
            }
            ctx.output.repairs = repairs
            ctx.output.dryRun = dryRun
            if (!dryRun) {
              // What is left after the repairs decides the exit code.
              const after = (
                await Promise.all(runner.plugins.map((p) => p.diagnose?.(ctx).catch(() => []) ?? []))
              ).flat()
              const failedAfter = [...(await coreDiagnoses()), ...after].filter((c) => c.status === 'fail')
              ctx.output.healthy = failedAfter.length === 0 && !repairs.some((r) => r.status === 'failed')
              if (!ctx.output.healthy) ctx.exitCode = failedAfter.some((c) => c.exitCode === 4) ? 4 : 1
              return
            }
          }
          const failed = checks.filter((c) => c.status === 'fail')
          ctx.output.healthy = failed.length === 0
          if (failed.length > 0) ctx.exitCode = failed.some((c) => c.exitCode === 4) ? 4 : 1
        },
      }),
    },
  })
}
