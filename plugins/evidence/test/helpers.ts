import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import type { BerthServices, InstanceRecord, Redactor, TaskContext } from '@berth/contract'
import {
  BUSYBOX_TEST_IMAGE,
  ensureBusyboxTestImage,
  makeTestContext,
  makeTestInstance,
  type RecordedLog,
} from '@berth/contract/testing'

export type { RecordedLog }

const run = promisify(execFile)

export const GIT_ENV = {
  GIT_AUTHOR_NAME: 'berth test',
  GIT_AUTHOR_EMAIL: 'test@berth.invalid',
  GIT_COMMITTER_NAME: 'berth test',
  GIT_COMMITTER_EMAIL: 'test@berth.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
}

/** A fresh temp folder (realpath'd). */
export function tempDir(prefix = 'berth-evidence-'): string {
  return realpathSync(mkdtempSync(join(tmpdir(), prefix)))
}

export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('git', args, { cwd, env: { ...process.env, ...GIT_ENV } })
  return stdout
}

/** `git init` + one commit of `files` in `dir`. */
export async function gitCheckout(dir: string, files: Record<string, string>): Promise<void> {
  await git(dir, 'init', '-q', '-b', 'main')
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true })
    writeFileSync(join(dir, path), content)
  }
  await git(dir, 'add', '-A')
  await git(dir, 'commit', '-q', '-m', 'initial')
}

export interface ContextInput {
  root: string
  home?: string
  instance?: InstanceRecord
  task?: string
  sections?: Record<string, unknown>
  flags?: Record<string, string | boolean | undefined>
  env?: Record<string, string>
  secretEnv?: Record<string, string>
  services?: BerthServices
}

/** A plain TaskContext for step tests; `logs` records what was logged. */
export function makeContext(input: ContextInput): TaskContext & { logs: RecordedLog[] } {
  return makeTestContext({
    ...input,
    task: input.task ?? 'evidence',
    home: input.home ?? join(input.root, 'home'),
    project: 'evtest',
  })
}

export function makeInstance(id: string, path: string, slot: number | null = 1): InstanceRecord {
  return makeTestInstance(id, path, { slot, project: 'evtest' })
}

/** The static-busybox test image shared by every plugin's engine tests (built once). */
export const TEST_IMAGE = BUSYBOX_TEST_IMAGE

export async function ensureTestImage(): Promise<void> {
  await ensureBusyboxTestImage()
}

export function uniqueProject(prefix = 'evidencetest'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** Runs docker-compose (the real binary) for a project in `cwd` with `env` added. */
export async function compose(cwd: string, project: string, args: string[], env: Record<string, string> = {}) {
  return run('docker-compose', ['-p', project, ...args], { cwd, env: { ...process.env, ...env } })
}

/** `serviceLogs` the way the compose plugin provides it: one real `compose logs` call, redacted. */
export function composeLogsService(cwd: string, project: string, redactor: Redactor): BerthServices['serviceLogs'] {
  return async (services, tail) => {
    const { stdout } = await compose(cwd, project, ['logs', '--no-color', `--tail=${tail}`, ...services])
    return redactor.redact(stdout)
  }
}

/** Every file below `dir`, relative, sorted. */
export function walk(dir: string, prefix = ''): string[] {
  const files: string[] = []
  for (const entry of readdirSync(join(dir, prefix))) {
    const path = prefix ? `${prefix}/${entry}` : entry
    if (statSync(join(dir, path)).isDirectory()) files.push(...walk(dir, path))
    else files.push(path)
  }
  return files.sort()
}

/** Files below `dir` whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  return walk(dir).filter((file) => readFileSync(join(dir, file)).includes(needle))
}
