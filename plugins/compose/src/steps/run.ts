import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  bindGroupToSignal,
  defineOutput,
  defineStep,
  type EngineContainer,
  lazySchema,
  OperationError,
  type TaskContext,
  UsageError,
} from '@berth/contract'
import * as z from 'zod'
import { projectContainers } from '../hooks/wait.js'
import { LineSplitter } from '../lines.js'
import { workspaceSettings } from '../render/instance.js'
import { WORKSPACE_NETWORK } from '../render/workspace.js'
import { assertComposeOk, runCompose } from '../run.js'
import type { WorkspaceConfig } from '../schema.js'
import { assertFilesExist, type ComposeSession, composeSession } from './context.js'
import type { LogsOutput } from './logs.js'

const SERVICE_LABEL = 'com.docker.compose.service'
const ONEOFF_LABEL = 'com.docker.compose.oneoff'

/** Where each `berth run` / `berth shell` of an instance is recorded (JSON lines; every evidence bundle copies it). */
export const WORKSPACE_RUNS_FILE = join('.sandbox', 'workspace', 'runs.jsonl')
/** The output of one run kept in the record: its last 64 KiB. */
const RECORDED_OUTPUT = 64 * 1024
/** The record is trimmed to its newer half when it grows past this. */
const RECORD_LIMIT = 4 * 1024 * 1024

const runSchema = lazySchema(() =>
  z.object({
    command: z.array(z.string()),
    /** The command's own exit code (berth exits with it); null when it was killed. */
    exitCode: z.number().int().nullable(),
    durationMs: z.number().int().min(0),
    /** Its output (stdout and stderr interleaved, line by line), secrets redacted. */
    output: z.string(),
  }),
)

/** `output.run`: what `berth run --json` (and the MCP `run` tool) reports. */
export const runOutput = defineOutput('run', runSchema, {
  description: "the command run in the instance's workspace: its exit code, duration and redacted output",
})

/** `output.shell`: the interactive shell's exit code and duration (its output is the terminal's). */
export const shellOutput = defineOutput(
  'shell',
  lazySchema(() =>
    z.object({
      command: z.array(z.string()),
      exitCode: z.number().int().nullable(),
      durationMs: z.number().int().min(0),
    }),
  ),
  { description: "the shell opened in the instance's workspace: its exit code and duration" },
)

/** One line of `.sandbox/workspace/runs.jsonl`. */
export interface WorkspaceRunRecord {
  kind: 'run' | 'shell'
  startedAt: string
  command: string[]
  exitCode: number | null
  durationMs: number
  /** The last 64 KiB of its output, redacted; null for an interactive shell (not captured). */
  output: string | null
}

/** A shell that is bash where the image has it, else sh. */
const SHELL = ['sh', '-c', 'if command -v bash >/dev/null 2>&1; then exec bash; else exec sh; fi']

/**
 * `compose.run` (`berth run -- CMD…`): runs the command in the instance's workspace container
 * (`docker exec` of its container: no TTY), output streamed line by line with secrets redacted (with `--json` to stderr
 * and into `output.run.output`); berth exits with the command's exit code. Each run is appended to
 * `.sandbox/workspace/runs.jsonl`, which every evidence bundle copies.
 */
export function composeRunStep(output: LogsOutput) {
  return defineStep({
    description: "run a command in this instance's workspace container (its checkout at /workspace), output redacted",
    effect: 'write',
    outputs: [runOutput],
    plan: (ctx) => `docker exec <workspace container> ${ctx.args.positionals.join(' ')}`,
    async run(ctx) {
      const command = ctx.args.positionals
      requireWorkspace(ctx)
      if (command.length === 0) {
        throw new UsageError('no command to run in the workspace', {
          hint: "put it after --, e.g. berth run -- sh -c 'ls /workspace'",
        })
      }
      const { session, container } = await workspaceSession(ctx, 'compose.run')
      const json = ctx.json === true
      const lines: string[] = []
      const startedAt = new Date()
      const started = performance.now()
      const result = await withoutLiveLine(() =>
        dockerExec(container, command, {
          stdin: !json && !process.stdin.isTTY,
          signal: ctx.signal,
          onLine: (line, stream) => {
            const clean = ctx.redactor.redact(line)
            lines.push(clean)
            output[json ? 'stderr' : stream].write(`${clean}\n`)
          },
        }),
      )
      if (ctx.signal.aborted) throw new OperationError('interrupted', { code: 'E_INTERRUPTED' })
      const durationMs = Math.round(performance.now() - started)
      const text = lines.join('\n')
      ctx.output.run = { command, exitCode: result.exitCode, durationMs, output: text }
      await recordRun(ctx, session, {
        kind: 'run',
        startedAt: startedAt.toISOString(),
        command,
        exitCode: result.exitCode,
        durationMs,
        output: text.length > RECORDED_OUTPUT ? text.slice(-RECORDED_OUTPUT) : text,
      })
      ctx.exitCode = result.exitCode ?? 1
    },
  })
}

/**
 * `compose.shell` (`berth shell`): an interactive shell in the workspace (`docker exec -it` when
 * stdin is a terminal; otherwise the shell reads stdin and its output is redacted). Recorded like
 * `berth run` (without the output of a terminal session). berth exits with the shell's exit code.
 */
export function composeShellStep(output: LogsOutput) {
  return defineStep({
    description: "open a shell in this instance's workspace container (its checkout at /workspace)",
    effect: 'write',
    outputs: [shellOutput],
    plan: () => 'docker exec -it <workspace> bash',
    async run(ctx) {
      const { session, container } = await workspaceSession(ctx, 'compose.shell')
      const startedAt = new Date()
      const started = performance.now()
      let exitCode: number | null
      let captured: string | null = null
      if (process.stdin.isTTY && ctx.json !== true) {
        exitCode = await withoutLiveLine(
          () =>
            new Promise<number | null>((resolve, reject) => {
              // The docker CLI needs no secret: the container has what it was given.
              const child = spawn('docker', ['exec', '-it', container, ...SHELL], { stdio: 'inherit' })
              child.on('error', (error) => reject(new OperationError(`could not run docker exec: ${error.message}`)))
              child.on('close', (code) => resolve(code))
            }),
        )
      } else {
        const lines: string[] = []
        const result = await dockerExec(container, SHELL, {
          stdin: true,
          signal: ctx.signal,
          onLine: (line, stream) => {
            const clean = ctx.redactor.redact(line)
            lines.push(clean)
            output[ctx.json === true ? 'stderr' : stream].write(`${clean}\n`)
          },
        })
        exitCode = result.exitCode
        const text = lines.join('\n')
        captured = text.length > RECORDED_OUTPUT ? text.slice(-RECORDED_OUTPUT) : text
      }
      const durationMs = Math.round(performance.now() - started)
      const command = SHELL.slice(0, 1)
      ctx.output.shell = { command, exitCode, durationMs }
      await recordRun(ctx, session, {
        kind: 'shell',
        startedAt: startedAt.toISOString(),
        command,
        exitCode,
        durationMs,
        output: captured,
      })
      ctx.exitCode = exitCode ?? 1
    },
  })
}

/**
 * The instance's compose session and its running workspace container. No workspace configured:
 * exit 2 naming the key. The stack not running: exit 1 (`E_NOT_RUNNING`, as `berth exec`). The
 * stack running without its workspace (started before the section was added, or `compose.services`
 * leaves it out): the workspace alone is started.
 */
async function workspaceSession(
  ctx: TaskContext,
  step: string,
): Promise<{ session: ComposeSession; service: string; container: string }> {
  const settings = requireWorkspace(ctx)
  const session = await composeSession(ctx, step)
  assertFilesExist(session.files)
  if (!session.render) {
    throw new UsageError('the workspace needs rendering, and compose.render.enabled is false', {
      code: 'E_NO_WORKSPACE',
      hint: 'remove compose.render.enabled: false from the berth config (berth adds the workspace to the rendered file)',
    })
  }
  const service = settings.service
  const containers = await projectContainers(session.project)
  const upKind = session.instance.kind === 'local-prod' ? 'local-prod' : 'sandbox'
  const running = containers.filter((c) => c.State === 'running' && c.Labels[ONEOFF_LABEL] !== 'True')
  const stack = running.filter((c) => c.Labels[SERVICE_LABEL] !== service)
  if (stack.length === 0) {
    throw new OperationError(`cannot run in the workspace: the stack of ${session.instance.id} is not running`, {
      code: 'E_NOT_RUNNING',
      hint: `start it with \`berth ${upKind} up\``,
    })
  }
  let mine = running.find((c) => c.Labels[SERVICE_LABEL] === service)
  if (!mine) {
    ctx.log.info(`starting the workspace (${service}) of ${session.instance.id}`)
    const result = await runCompose(['up', '-d', '--no-deps', service], session.options)
    assertComposeOk(result, `starting the workspace ${service}`, ctx.redactor)
    mine = (await projectContainers(session.project)).find(
      (c) => c.State === 'running' && c.Labels[SERVICE_LABEL] === service && c.Labels[ONEOFF_LABEL] !== 'True',
    )
    if (!mine) {
      throw new OperationError(`the workspace ${service} of ${session.instance.id} did not start`, {
        code: 'E_NOT_RUNNING',
        hint: `see berth sandbox logs ${service}`,
      })
    }
    const outside = stack
      .filter((c) => !onNetwork(c, `${session.project}_${WORKSPACE_NETWORK}`))
      .map((c) => c.Labels[SERVICE_LABEL])
    if (outside.length > 0) {
      ctx.log.warn(
        `not on the workspace network (started before the workspace was configured): ${[...new Set(outside)].join(', ')}; \`berth ${upKind} up\` recreates them`,
      )
    }
  }
  return { session, service, container: mine.Id }
}

/**
 * `docker exec [-i] <container> CMD…` with its output split into lines (the workspace container's
 * own user and working directory). Straight to the engine's CLI rather than `compose exec -T`:
 * the same exec, without compose's start-up on every run (Compose v1 costs ~0.4 s). Runs in its
 * own process group, ended with it when `signal` aborts. A docker CLI that cannot start answers 127.
 */
function dockerExec(
  container: string,
  command: string[],
  options: {
    stdin: boolean
    signal: AbortSignal
    onLine: (line: string, stream: 'stdout' | 'stderr') => void
  },
): Promise<{ exitCode: number | null }> {
  // Every process of this run carries the mark (children inherit it), so an interrupted run is
  // ended inside the container too: a docker CLI that is killed leaves its exec running there.
  const mark = `BERTH_RUN=${randomBytes(8).toString('hex')}`
  return new Promise((resolve) => {
    const child = spawn('docker', ['exec', ...(options.stdin ? ['-i'] : []), '-e', mark, container, ...command], {
      detached: true,
      stdio: [options.stdin ? 'inherit' : 'ignore', 'pipe', 'pipe'],
    })
    const splitters = {
      stdout: new LineSplitter((line) => options.onLine(line, 'stdout')),
      stderr: new LineSplitter((line) => options.onLine(line, 'stderr')),
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8')
      child[stream].on('data', (chunk: string) => splitters[stream].push(chunk))
    }
    const group = bindGroupToSignal(child, options.signal)
    let failure: Error | undefined
    child.once('error', (error) => {
      failure = error
    })
    child.once('close', (code) => {
      splitters.stdout.flush()
      splitters.stderr.flush()
      if (failure) options.onLine(`docker: ${failure.message}`, 'stderr')
      void group
        .settle()
        .then(() => (options.signal.aborted ? endMarked(container, mark) : undefined))
        .then(() => resolve({ exitCode: failure ? 127 : code }))
    })
  })
}

/** SIGTERM to every process in the container whose environment holds `mark` (one `docker exec`, best effort). */
function endMarked(container: string, mark: string): Promise<void> {
  const script = `for p in /proc/[0-9]*; do tr '\\0' '\\n' < "$p/environ" 2>/dev/null | grep -qx '${mark}' && kill -TERM "\${p#/proc/}" 2>/dev/null; done; true`
  return new Promise((resolve) => {
    const child = spawn('docker', ['exec', container, 'sh', '-c', script], { stdio: 'ignore' })
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    child.once('error', () => resolve())
    child.once('close', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** What the progress line on a terminal starts each redraw with (tasks/src/output.ts). */
const LIVE_LINE = '\r\u001b[2K'

/**
 * Runs `body` with the terminal's live progress line ("… compose.run 1.2 s", redrawn every 100 ms
 * on stderr) held back: it would overwrite a shell's prompt and the command's own lines. Only the
 * redraws are dropped; warnings and the command's output pass. Nothing changes off a terminal.
 */
async function withoutLiveLine<T>(body: () => Promise<T>): Promise<T> {
  const stderr = process.stderr
  if (!stderr.isTTY) return body()
  const original = stderr.write
  original.call(stderr, LIVE_LINE)
  stderr.write = ((chunk: unknown, ...rest: unknown[]) =>
    typeof chunk === 'string' && chunk.startsWith(LIVE_LINE)
      ? true
      : (original as (...args: unknown[]) => boolean).call(stderr, chunk, ...rest)) as typeof stderr.write
  try {
    return await body()
  } finally {
    stderr.write = original
  }
}

/** The `workspace` section, or exit 2 naming the key to set. */
function requireWorkspace(ctx: TaskContext): WorkspaceConfig {
  const settings = workspaceSettings(ctx)
  if (settings) return settings
  throw new UsageError('this project has no workspace configured (the workspace config key)', {
    code: 'E_NO_WORKSPACE',
    hint: 'add "workspace": {} to the berth config (docs/workspace.md), then berth sandbox up',
  })
}

function onNetwork(container: EngineContainer, network: string): boolean {
  const networks = (container as EngineContainer & { NetworkSettings?: { Networks?: Record<string, unknown> } })
    .NetworkSettings?.Networks
  return networks === undefined || network in networks
}

/** Appends one record to `.sandbox/workspace/runs.jsonl` (secrets redacted again); never fails the run. */
async function recordRun(ctx: TaskContext, session: ComposeSession, record: WorkspaceRunRecord): Promise<void> {
  const file = join(session.instance.path, WORKSPACE_RUNS_FILE)
  try {
    await mkdir(join(session.instance.path, '.sandbox', 'workspace'), { recursive: true })
    const size = await stat(file).then(
      (s) => s.size,
      () => 0,
    )
    if (size > RECORD_LIMIT) {
      const text = await readFile(file, 'utf8')
      const kept = text.slice(Math.floor(text.length / 2))
      await writeFile(file, kept.slice(kept.indexOf('\n') + 1), { mode: 0o644 })
    }
    await appendFile(file, `${ctx.redactor.redact(JSON.stringify(record))}\n`, { mode: 0o644 })
  } catch (error) {
    ctx.log.warn(`could not record the run in ${file}: ${(error as Error).message}`)
  }
}
