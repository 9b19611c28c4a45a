/**
 * Test helpers for plugin authors (`@berth/contract/testing`): a plain TaskContext that records
 * what a step logs, and an InstanceRecord. Steps are tested against real git, files and the Docker
 * engine; only the context is hand-made.
 */
import { execFile } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { BerthServices, RepoInfo, TaskContext, TaskRequest } from './context.js'
import type { InstanceKind, InstanceRecord } from './instance-record.js'
import { Redactor } from './redact.js'
import type { ConfigSection, Step } from './step.js'

export interface RecordedLog {
  level: 'info' | 'warn' | 'debug'
  message: string
}

export interface TestContextInput {
  /** cwd and config root. */
  root: string
  /** BERTH_HOME; defaults to `root`. */
  home?: string
  project?: string
  task?: string
  /** Config sections as a user writes them; each is validated by its schema (see `config`). */
  sections?: Record<string, unknown>
  /** Sections to validate: `sections[name]` goes through the section's schema, as the runner does. */
  config?: readonly ConfigSection[]
  /** Parsed flag values, as the runner hands them to steps. */
  flags?: Record<string, unknown>
  positionals?: string[]
  request?: TaskRequest
  instance?: InstanceRecord
  repo?: RepoInfo
  env?: Record<string, string>
  /** Also registered with the context's redactor, as `secrets.load` does. */
  secretEnv?: Record<string, string>
  services?: BerthServices
  signal?: AbortSignal
  /** `--dry-run`. */
  dryRun?: boolean
  /** `--json`. */
  json?: boolean
}

/** A plain TaskContext for step tests; `logs` records every line the step logged, in order. */
export function makeTestContext(input: TestContextInput): TaskContext & { logs: RecordedLog[] } {
  const logs: RecordedLog[] = []
  const redactor = new Redactor()
  for (const value of Object.values(input.secretEnv ?? {})) redactor.add(value)
  const sections: Record<string, unknown> = { ...input.sections }
  for (const section of input.config ?? []) sections[section.name] = section.schema.parse(sections[section.name])
  return {
    task: input.task ?? 'test',
    cwd: input.root,
    home: input.home ?? input.root,
    config: { project: input.project ?? 'demo', root: input.root, file: null, sections },
    args: {
      positionals: input.positionals ?? [],
      flags: (input.flags ?? {}) as Record<string, string | boolean | undefined>,
    },
    flags: input.flags ?? {},
    settings: undefined,
    exitCode: 0,
    dryRun: input.dryRun === true,
    json: input.json === true,
    log: {
      info: (message) => logs.push({ level: 'info', message }),
      warn: (message) => logs.push({ level: 'warn', message }),
      debug: (message) => logs.push({ level: 'debug', message }),
    },
    redactor,
    services: input.services ?? {},
    signal: input.signal ?? new AbortController().signal,
    request: input.request ?? {},
    ...(input.repo ? { repo: input.repo } : {}),
    ...(input.instance ? { instance: input.instance } : {}),
    env: input.env ?? {},
    secretEnv: input.secretEnv ?? {},
    output: {},
    state: {},
    logs,
  }
}

/** A registered-looking instance at `path` (a sandbox on slot 1 unless told otherwise). */
export function makeTestInstance(
  id: string,
  path: string,
  options: { slot?: number | null; project?: string; kind?: InstanceKind } = {},
): InstanceRecord {
  return {
    id,
    project: options.project ?? 'demo',
    kind: options.kind ?? 'sandbox',
    slot: options.slot === undefined ? 1 : options.slot,
    path,
    repo: path,
    createdByBerth: false,
    createdAt: new Date().toISOString(),
  }
}

/** A tiny image FROM scratch with the host's static busybox (and `/www/index.html`): no registry needed. */
export const BUSYBOX_TEST_IMAGE = 'berth-compose-test-busybox:local'

/**
 * Builds {@link BUSYBOX_TEST_IMAGE} unless the engine already has it (one request to ask).
 * Fails, never skips, when there is no engine or no `/bin/busybox` (Debian: busybox-static).
 */
export async function ensureBusyboxTestImage(): Promise<string> {
  const present = await promisify(execFile)('docker', [
    'image',
    'inspect',
    '--format',
    '{{.Id}}',
    BUSYBOX_TEST_IMAGE,
  ]).then(
    () => true,
    () => false,
  )
  if (present) return BUSYBOX_TEST_IMAGE
  const context = mkdtempSync(join(tmpdir(), 'berth-test-image-'))
  try {
    copyFileSync('/bin/busybox', join(context, 'busybox'))
    mkdirSync(join(context, 'www'))
    writeFileSync(join(context, 'www', 'index.html'), 'ok\n')
    writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n')
    await promisify(execFile)('docker', ['build', '-q', '-t', BUSYBOX_TEST_IMAGE, '.'], { cwd: context })
  } finally {
    rmSync(context, { recursive: true, force: true })
  }
  return BUSYBOX_TEST_IMAGE
}

/**
 * Runs one step (its `run`, or `undo` with `phase: 'undo'`) as the runner would: `ctx.settings`
 * is the step's declared config section, read from the context.
 */
export async function runStep(step: Step, ctx: TaskContext, phase: 'run' | 'undo' = 'run'): Promise<void> {
  ctx.settings = step.config?.read(ctx)
  const call = phase === 'run' ? step.run : step.undo
  await call?.call(step, ctx as never)
}
