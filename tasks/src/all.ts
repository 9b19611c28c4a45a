/**
 * `berth done --all` / `berth sandbox destroy --all`: every instance of this project, each removed
 * by its own `berth done <id>` / `berth sandbox destroy <id>` run — the same pipeline, lock and
 * safety as one at a time — so unpushed work keeps that one (unless --force) and the others still
 * go. local-prod is never part of `--all` (its volumes hold real data): `local-prod destroy` does it.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { colour, type InstanceRecord, UsageError } from '@berth/contract'
import type { CommandSpec } from './commands.js'

/** Flags passed on to each instance's own run. */
const PASSED_ON = ['force', 'dry-run', 'keep-worktree', 'no-secrets'] as const

export interface AllEntry {
  id: string
  name?: string | undefined
  kind: InstanceRecord['kind']
  slot: number | null
  path: string
}

export interface AllReport {
  dryRun: boolean
  /** Removed (or, with --dry-run, would be removed). */
  went: AllEntry[]
  /** Kept, with the reason and the exit code of that instance's run. */
  stayed: (AllEntry & { reason: string; hint: string | null; exitCode: number; code: string | null })[]
}

interface ChildResult {
  code: number
  stdout: string
  stderr: string
}

/** berth's bin (tasks/bin/berth.js), found from this module in src/, dist/ or dist/bundle/. */
function berthBin(): string {
  for (const up of ['../bin/berth.js', '../../bin/berth.js', '../../../bin/berth.js']) {
    const path = fileURLToPath(new URL(up, import.meta.url))
    if (existsSync(path)) return path
  }
  return process.argv[1] ?? 'berth'
}

function runBerth(args: string[], cwd: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [berthBin(), ...args], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGINT' ? 130 : 1), stdout, stderr }))
  })
}

function parseDocument(text: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch {
    return undefined
  }
}

/**
 * Exit code of the whole: 0 when every instance went; 130 when interrupted; else 1 when any stayed because an operation
 * failed (compose, git), else the highest code of the ones that stayed — 3 when they stayed for a
 * conflict (unsaved work, a folder berth did not create, an instance busy).
 */
export function exitCodeOf(report: AllReport): number {
  if (report.stayed.length === 0) return 0
  const codes = report.stayed.map((s) => s.exitCode)
  if (codes.includes(130)) return 130
  if (codes.includes(1)) return 1
  return Math.max(...codes)
}

/** Runs `command` (done / sandbox destroy) for every instance of the project; prints the report. */
export async function executeAll(
  command: CommandSpec,
  flags: Record<string, string | boolean | undefined>,
  positionals: string[],
  cwd: string,
  signal: AbortSignal,
): Promise<number> {
  if (positionals.length > 0) {
    throw new UsageError(`--all and a name (${positionals[0]}) cannot be used together`, {
      hint: `berth ${command.path.join(' ')} --all, or berth ${command.path.join(' ')} <name>`,
    })
  }
  const json = flags.json === true
  const listed = await runBerth(['sandbox', 'list', '--json', '--cwd', cwd], cwd)
  const list = parseDocument(listed.stdout)
  if (listed.code !== 0 || !list || !Array.isArray(list.instances)) {
    // The listing's own error (no repository, bad config…) is this command's.
    if (json) process.stdout.write(listed.stdout)
    process.stderr.write(listed.stderr)
    return listed.code || 1
  }
  const instances = list.instances as InstanceRecord[]
  const report: AllReport = { dryRun: flags['dry-run'] === true, went: [], stayed: [] }
  const passed = PASSED_ON.filter((flag) => flags[flag] === true).map((flag) => `--${flag}`)
  let interrupted = false
  for (const instance of instances) {
    const entry: AllEntry = {
      id: instance.id,
      ...(instance.name ? { name: instance.name } : {}),
      kind: instance.kind,
      slot: instance.slot,
      path: instance.path,
    }
    if (instance.kind === 'local-prod') {
      report.stayed.push({
        ...entry,
        reason: 'local-prod is never part of --all (its volumes hold your real data)',
        hint: 'berth local-prod destroy, if you mean it',
        exitCode: 0,
        code: 'E_LOCAL_PROD',
      })
      continue
    }
    // Ctrl-C reaches the running child too (one process group); the ones after it are not started.
    if (interrupted || signal.aborted) {
      interrupted = true
      report.stayed.push({
        ...entry,
        reason: 'not attempted: interrupted',
        hint: null,
        exitCode: 130,
        code: 'E_INTERRUPTED',
      })
      continue
    }
    if (!json) process.stderr.write(`${colour.dim('→')} ${command.path.join(' ')} ${instance.id}\n`)
    const result = await runBerth([...command.path, instance.id, ...passed, '--json', '--cwd', cwd], cwd)
    if (result.code === 0) {
      report.went.push(entry)
      continue
    }
    if (result.code === 130) interrupted = true
    const error = parseDocument(result.stdout)?.error as
      | { message?: string; hint?: string | null; code?: string; step?: string | null }
      | undefined
    report.stayed.push({
      ...entry,
      reason: error?.message
        ? `${error.step ? `${error.step}: ` : ''}${error.message}`
        : result.stderr.trim().split('\n').pop() || `exit ${result.code}`,
      hint: error?.hint ?? null,
      exitCode: result.code,
      code: error?.code ?? null,
    })
  }
  // local-prod (exit code 0 in its entry) stays by design and does not make the whole fail.
  const exitCode = exitCodeOf({ ...report, stayed: report.stayed.filter((s) => s.exitCode !== 0) })
  if (json) {
    const document = { ok: exitCode === 0, command: `${command.path.join(' ')} --all`, all: report }
    process.stdout.write(`${JSON.stringify(document, null, 2)}\n`)
  } else process.stdout.write(`${renderAll(report).join('\n')}\n`)
  return exitCode
}

function label(entry: AllEntry): string {
  const name = entry.name && !entry.id.endsWith(`-${entry.name}`) ? ` (${entry.name})` : ''
  return `${entry.id}${name}${entry.slot === null ? '' : ` slot ${entry.slot}`}`
}

export function renderAll(report: AllReport): string[] {
  const total = report.went.length + report.stayed.length
  if (total === 0) return ['no instances of this project are registered: nothing to remove']
  const lines = report.dryRun ? ['dry run — nothing was changed:'] : []
  const went = report.dryRun ? 'would go ' : 'removed  '
  const stays = report.dryRun ? 'would stay' : 'kept     '
  for (const entry of report.went) lines.push(`${went} ${label(entry)}`)
  for (const entry of report.stayed) {
    lines.push(`${stays} ${label(entry)}: ${entry.reason.replace(/\n/g, '\n           ')}`)
    if (entry.hint) lines.push(`           hint: ${entry.hint}`)
  }
  const kept = report.stayed.length
  lines.push(
    `${report.went.length} ${report.dryRun ? 'would go' : 'removed'}, ${kept} ${report.dryRun ? 'would stay' : 'kept'}`,
  )
  return lines
}
