import type { Diagnosis, Redactor } from '@berth/contract'
import type { CommandSpec } from './commands.js'
import { colour } from './output.js'

type Output = Record<string, unknown>

function table(rows: string[][]): string[] {
  const widths = rows[0]?.map((_, col) => Math.max(...rows.map((r) => (r[col] ?? '').length))) ?? []
  return rows.map((row) =>
    row
      .map((cell, col) => cell.padEnd(widths[col] ?? 0))
      .join('  ')
      .trimEnd(),
  )
}

const RENDERERS: Record<string, (output: Output) => string[]> = {
  'sandbox.init': (o) => {
    const instance = o.instance as { id: string; slot: number; path: string }
    const ports = (o.env ?? {}) as Record<string, string>
    return [
      `${colour.green('registered')} ${instance.id} on slot ${instance.slot} (${instance.path})`,
      `wrote ${o.envFile}`,
      ...Object.entries(ports).map(([k, v]) => `  ${k}=${v}`),
    ]
  },
  'sandbox.slots': (o) => {
    const slots = o.slots as {
      slot: number
      role: string
      state: string
      instance: string | null
      ports: Record<string, number>
    }[]
    return table([
      ['SLOT', 'ROLE', 'STATE', 'INSTANCE', 'PORTS'],
      ...slots.map((s) => [
        String(s.slot),
        s.role,
        s.state,
        s.instance ?? '-',
        Object.values(s.ports).slice(0, 4).join(',') + (Object.keys(s.ports).length > 4 ? ',…' : ''),
      ]),
    ])
  },
  'sandbox.release': (o) => {
    const r = o.released as { id: string; slot: number }
    return [`released slot ${r.slot} (${r.id})`]
  },
  url: (o) => [String(o.url)],
  'config.show': (o) => [JSON.stringify(o.config, null, 2)],
  'config.schema': (o) => [JSON.stringify(o.schema, null, 2)],
  doctor: (o) =>
    (o.checks as Diagnosis[]).map((c) => {
      const mark = c.status === 'ok' ? colour.green('✔') : c.status === 'warn' ? colour.yellow('!') : colour.red('✖')
      return `${mark} ${c.check}: ${c.detail}${c.hint && c.status !== 'ok' ? colour.dim(` — ${c.hint}`) : ''}`
    }),
}

/** Prints a command's result: the `--json` document, or lines for humans on stdout. */
export function renderResult(
  command: CommandSpec,
  output: Output,
  options: { json: boolean; redactor: Redactor; ok: boolean },
) {
  if (options.json) {
    const document =
      command.pipeline === 'config.schema'
        ? output.schema
        : { ok: options.ok, command: command.path.join(' '), ...output }
    process.stdout.write(`${options.redactor.redact(JSON.stringify(document, null, 2))}\n`)
    return
  }
  const render = RENDERERS[command.pipeline]
  const lines = render ? render(output) : []
  if (lines.length > 0) process.stdout.write(`${options.redactor.redact(lines.join('\n'))}\n`)
}
