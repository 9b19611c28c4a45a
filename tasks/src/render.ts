import { colour, type Diagnosis, type Redactor, type Repair, table } from '@berth/contract'
import type { CommandSpec } from './commands.js'
import type { BoundStep } from './runner.js'

type Output = Record<string, unknown>

interface Instance {
  id: string
  name?: string
  kind: string
  slot: number | null
  path: string
  branch?: string
}
interface Container {
  service: string
  name: string
  state: string
  health?: string | null
  ports?: { host?: number; hostIp?: string; container?: number }[]
}

/** `genome/M1 (acme-impl-genome-m1)` when the typed name is not already the id's tail, else the id. */
function instanceName(instance: Pick<Instance, 'id' | 'name'>): string {
  const { id, name } = instance
  return name && name !== id && !id.endsWith(`-${name}`) ? `${name} (${id})` : id
}

function instanceLines(output: Output, verb: string): string[] {
  const instance = output.instance as Instance | undefined
  if (!instance) return []
  const slot = instance.slot === null ? 'no slot' : `slot ${instance.slot}`
  const { id, name } = instance
  const who = name && name !== id && !id.endsWith(`-${name}`) ? `${name} as ${id}` : id
  return [`${colour.green(verb)} ${who} (${slot}) ${instance.path}${instance.branch ? ` on ${instance.branch}` : ''}`]
}

function containerLines(output: Output): string[] {
  const containers = (output.containers ?? []) as Container[]
  if (containers.length === 0) return [`state: ${String(output.state ?? 'absent')} (no containers)`]
  return [
    `state: ${String(output.state)}`,
    ...table([
      ['SERVICE', 'STATE', 'HEALTH', 'PORTS'],
      ...containers.map((c) => [
        c.service,
        c.state,
        c.health ?? '-',
        (c.ports ?? [])
          .filter((p) => p.host)
          .map((p) => `${p.hostIp ?? '127.0.0.1'}:${p.host}->${p.container}`)
          .join(', '),
      ]),
    ]).map((line) => `  ${line}`),
  ]
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`
  return `${Math.round(seconds / 86400)}d`
}

function evidenceLine(output: Output): string[] {
  return output.evidenceDir ? [colour.dim(`evidence: ${String(output.evidenceDir)}`)] : []
}

const startedLines = (verb: string) => (o: Output) => [...instanceLines(o, verb), ...evidenceLine(o)]

const RENDERERS: Record<string, (output: Output) => string[]> = {
  impl: (o) => [...instanceLines(o, o.gate ? 'ready' : 'created'), ...evidenceLine(o)],
  spec: (o) => instanceLines(o, 'created'),
  done: (o) => [
    `${colour.green('done')} ${instanceName(o.instance as Instance)}: stack removed, worktree removed (branch kept), slot released`,
  ],
  worktrees: (o) =>
    table([
      ['KIND', 'BRANCH', 'SLOT', 'STATE', 'INSTANCE', 'PATH'],
      ...(
        o.worktrees as {
          kind: string
          main: boolean
          branch: string | null
          id: string | null
          name: string | null
          slot: number | null
          dirty: string[]
          unpushed: unknown[]
          path: string
        }[]
      ).map((w) => [
        w.main ? 'main' : w.kind,
        w.branch ?? '(detached)',
        w.slot === null ? '-' : String(w.slot),
        [
          w.dirty.length ? `${w.dirty.length} uncommitted` : '',
          w.unpushed.length ? `${w.unpushed.length} unpushed` : '',
        ]
          .filter(Boolean)
          .join(', ') || 'clean',
        w.id ? instanceName({ id: w.id, name: w.name ?? undefined }) : '-',
        w.path,
      ]),
    ]),
  'sandbox.up': startedLines('up'),
  'local-prod.up': startedLines('up'),
  'sandbox.down': (o) => [`stopped ${(o.instance as Instance).id}`],
  'local-prod.down': (o) => [`stopped ${(o.instance as Instance).id}`],
  'sandbox.status': (o) => [...instanceLines(o, 'instance'), ...containerLines(o)],
  'local-prod.status': (o) => [...instanceLines(o, 'instance'), ...containerLines(o)],
  'sandbox.destroy': (o) => [`${colour.green('destroyed')} ${(o.instance as Instance).id}`],
  'local-prod.destroy': (o) => [`${colour.green('destroyed')} ${(o.instance as Instance).id}`],
  'local-prod.init': (o) => instanceLines(o, 'registered'),
  gate: (o) => evidenceLine(o),
  'test.e2e': (o) => {
    const e2e = o.e2e as { service: string; exitCode: number; files?: string[]; artifactsDir?: string } | undefined
    if (!e2e) return evidenceLine(o)
    const verdict = e2e.exitCode === 0 ? colour.green('passed') : colour.red(`failed (exit ${e2e.exitCode})`)
    return [`${e2e.service} ${verdict}, ${e2e.files?.length ?? 0} artifact(s)`, ...evidenceLine(o)]
  },
  evidence: (o) => {
    const manifest = o.evidence as { dir: string; files: unknown[]; problems: string[] }
    return [
      `bundle ${manifest.dir} (${manifest.files.length} files)`,
      ...manifest.problems.map((p) => `${colour.yellow('not collected:')} ${p}`),
    ]
  },
  'sandbox.list': (o) => {
    const rows = o.instances as (Instance & {
      state: string
      running: number
      total: number
      apiPort: number | null
      ageSeconds: number
    })[]
    const orphans = ((o.compose as { orphans?: { project: string }[] } | undefined)?.orphans ?? []).map(
      (orphan) => `${colour.yellow('orphan')} compose project ${orphan.project} is not registered (see 'berth doctor')`,
    )
    if (rows.length === 0) return ['no instances registered', ...orphans]
    return [
      ...table([
        ['INSTANCE', 'KIND', 'SLOT', 'STATE', 'CONTAINERS', 'API', 'AGE'],
        ...rows.map((r) => [
          instanceName(r),
          r.kind,
          r.slot === null ? '-' : String(r.slot),
          r.state,
          `${r.running}/${r.total}`,
          r.apiPort ? `http://127.0.0.1:${r.apiPort}` : '-',
          age(r.ageSeconds),
        ]),
      ]),
      ...orphans,
    ]
  },
  'sandbox.init': (o) => {
    const instance = o.instance as { id: string; slot: number; path: string }
    return [`${colour.green('registered')} ${instance.id} on slot ${instance.slot} (${instance.path})`]
  },
  'sandbox.slots': (o) => {
    const slots = o.slots as {
      slot: number
      role: string
      state: string
      instance: string | null
      ports: Record<string, number>
      blockedBy?: { id: string; project: string; ports: number[] }[]
      holders?: { port: number; description: string }[]
    }[]
    // Who is in the way: this project's instance, another project's claim, or a host process.
    const whom = (s: (typeof slots)[number]) =>
      s.instance ??
      (s.blockedBy?.length
        ? s.blockedBy
            .map(
              (c) =>
                `${c.id} (project ${c.project}; ${c.ports.length > 2 ? `${c.ports.length} ports` : `ports ${c.ports.join(',')}`})`,
            )
            .join('; ')
        : s.holders?.length
          ? s.holders.map((h) => `${h.port}: ${h.description}`).join('; ')
          : '-')
    return table([
      ['SLOT', 'ROLE', 'STATE', 'PORTS', 'INSTANCE / BLOCKED BY'],
      ...slots.map((s) => [
        String(s.slot),
        s.role,
        s.state,
        Object.values(s.ports).slice(0, 4).join(',') + (Object.keys(s.ports).length > 4 ? ',…' : ''),
        whom(s),
      ]),
    ])
  },
  'sandbox.release': (o) => {
    const r = o.released as { id: string; slot: number }
    return [`released slot ${r.slot} (${r.id})`]
  },
  completion: (o) => [String(o.script).trimEnd()],
  'config.show': (o) => [JSON.stringify(o.config, null, 2)],
  'config.schema': (o) => [JSON.stringify(o.schema, null, 2)],
  doctor: (o) => [
    ...(o.checks as Diagnosis[]).map((c) => {
      const mark = c.status === 'ok' ? colour.green('✔') : c.status === 'warn' ? colour.yellow('!') : colour.red('✖')
      return `${mark} ${c.check}: ${c.detail}${c.hint && c.status !== 'ok' ? colour.dim(` — ${c.hint}`) : ''}`
    }),
    ...((o.repairs as Repair[] | undefined) ?? []).map(
      (r) =>
        `${r.status === 'failed' ? colour.red(r.status) : r.status === 'skipped' ? colour.dim(r.status) : colour.green(r.status)} ${r.action}${r.detail ? colour.dim(` — ${r.detail}`) : ''}`,
    ),
  ],
}

/**
 * Lines for humans from the typed outputs: each step's declared outputs that have a renderer, in
 * pipeline order, each key once.
 */
export function renderOutputs(command: CommandSpec, steps: BoundStep[], output: Output): string[] {
  const view = { command: command.path.join(' '), task: command.pipeline, output }
  const seen = new Set<string>()
  const lines: string[] = []
  for (const bound of steps) {
    for (const def of bound.step.outputs ?? []) {
      if (seen.has(def.key) || output[def.key] === undefined || !def.render) continue
      seen.add(def.key)
      lines.push(...def.render(output[def.key] as never, view))
    }
  }
  return lines
}

/** Prints a command's result: the `--json` document, or lines for humans on stdout. */
export function renderResult(
  command: CommandSpec,
  steps: BoundStep[],
  output: Output,
  options: { json: boolean; redactor: Redactor; ok: boolean },
) {
  if (options.json) {
    const document =
      command.pipeline === 'config.schema'
        ? output.schema
        : { ok: options.ok, command: command.path.join(' '), ...output }
    process.stdout.write(`${JSON.stringify(options.redactor.redactValue(document), null, 2)}\n`)
    return
  }
  const plan = output.plan as { step: string; action: string }[] | undefined
  const lines = plan
    ? ['dry run — nothing was changed; the plan:', ...plan.map((p) => `  ${p.step.padEnd(18)} ${p.action}`)]
    : [...(RENDERERS[command.pipeline]?.(output) ?? []), ...renderOutputs(command, steps, output)]
  if (lines.length > 0) process.stdout.write(`${options.redactor.redact(lines.join('\n'))}\n`)
}
