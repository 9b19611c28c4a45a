import { colour, type Redactor } from '@berth/contract'
import type { CommandSpec } from './commands.js'
import { writeFd } from './output.js'
import type { BoundStep } from './runner.js'

type Output = Record<string, unknown>

function evidenceLine(output: Output): string[] {
  return output.evidenceDir ? [colour.dim(`evidence: ${String(output.evidenceDir)}`)] : []
}

const RENDERERS: Record<string, (output: Output) => string[]> = {
  impl: evidenceLine,
  'sandbox.up': evidenceLine,
  'local-prod.up': evidenceLine,
  gate: (o) => evidenceLine(o),
  'test.e2e': evidenceLine,
  evidence: (o) => {
    const manifest = o.evidence as { dir: string; files: unknown[]; problems: string[] }
    return [
      `bundle ${manifest.dir} (${manifest.files.length} files)`,
      ...manifest.problems.map((p) => `${colour.yellow('not collected:')} ${p}`),
    ]
  },
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
    writeFd(1, `${JSON.stringify(options.redactor.redactValue(document), null, 2)}\n`)
    return
  }
  const plan = output.plan as { step: string; action: string }[] | undefined
  const lines = plan
    ? ['dry run — nothing was changed; the plan:', ...plan.map((p) => `  ${p.step.padEnd(18)} ${p.action}`)]
    : [...renderOutputs(command, steps, output), ...(RENDERERS[command.pipeline]?.(output) ?? [])]
  if (lines.length > 0) writeFd(1, `${options.redactor.redact(lines.join('\n'))}\n`)
}
