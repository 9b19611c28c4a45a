import * as z from 'zod'
import { COMMANDS, type CommandSpec } from './commands.js'
import { bindPipeline, expandPipeline } from './pipelines.js'
import type { BoundStep } from './runner.js'
import type { RunnerState } from './runner-state.js'

/** One key of a command's `--json` document: which steps write it, what it is, its schema. */
export interface DocumentKey {
  key: string
  description: string
  steps: string[]
  schema: z.ZodType
}

/** The keys the steps of a pipeline declare, in pipeline order, each once (the first description). */
export function documentKeys(steps: BoundStep[]): DocumentKey[] {
  const byKey = new Map<string, DocumentKey>()
  for (const bound of steps) {
    for (const output of bound.step.outputs ?? []) {
      const seen = byKey.get(output.key)
      if (seen) {
        if (!seen.steps.includes(bound.id)) seen.steps.push(bound.id)
        continue
      }
      byKey.set(output.key, {
        key: output.key,
        description: output.description,
        steps: [bound.id],
        schema: output.schema,
      })
    }
  }
  return [...byKey.values()]
}

/** `--help`'s lines for the `--json` document: every key with what it is and the steps writing it. */
export function documentHelpLines(keys: DocumentKey[]): string[] {
  if (keys.length === 0) return []
  const width = Math.min(22, Math.max(...keys.map((k) => k.key.length)) + 2)
  return [
    '',
    '--json document (besides ok, command, and error on failure):',
    ...keys.map((k) => `  ${k.key.padEnd(width)} ${k.description} [${k.steps.join(', ')}]`),
  ]
}

function jsonSchemaOf(schema: z.ZodType): unknown {
  try {
    return z.toJSONSchema(schema, { io: 'output', unrepresentable: 'any' })
  } catch {
    return {}
  }
}

/**
 * docs/json.md: for every command, the keys of its `--json` document, each with the step that
 * writes it and the JSON Schema derived from the step's zod schema. Generated (pnpm docs:json);
 * a test fails when it is not current.
 */
export function jsonReference(runner: RunnerState, commands: CommandSpec[] = COMMANDS): string {
  const lines = [
    '# The `--json` documents',
    '',
    "<!-- Generated from the steps' declared outputs by `pnpm docs:json`; do not edit. -->",
    '',
    'Every command prints one JSON document on stdout with `--json`: `ok` (true when it exited 0),',
    '`command` (as typed, e.g. `sandbox up`), `error` on failure (`{ code, message, hint, step,',
    'exitCode, details }`), and the keys below, each written by the step named and matching its',
    "schema. A plugin added from a config adds its steps' keys, checked against their schemas before",
    "they are printed; berth's own steps are checked so by its test suite (`BERTH_CHECK_OUTPUTS=1`).",
    '',
  ]
  const schemas = new Map<string, { key: string; steps: string[]; schema: unknown }>()
  for (const command of commands) {
    let steps: BoundStep[]
    try {
      steps = bindPipeline(command.pipeline, expandPipeline(command.pipeline, runner.pipelines), runner.plugins)
    } catch {
      continue
    }
    const keys = documentKeys(steps)
    lines.push(`## berth ${command.path.join(' ')}`, '')
    if (keys.length === 0) {
      lines.push('No keys besides `ok` and `command`.', '')
      continue
    }
    lines.push('| key | written by | what it is |', '| --- | --- | --- |')
    for (const key of keys) {
      const schema = jsonSchemaOf(key.schema)
      const id = `${key.key}-${key.steps[0]?.replace(/\./g, '-')}`.toLowerCase()
      if (!schemas.has(id)) schemas.set(id, { key: key.key, steps: key.steps, schema })
      lines.push(
        `| [\`${key.key}\`](#${id}) | ${key.steps.map((s) => `\`${s}\``).join(', ')} | ${key.description.replace(/\|/g, '\\|')} |`,
      )
    }
    lines.push('')
  }
  lines.push('## Schemas', '')
  for (const [id, { key, steps, schema }] of schemas) {
    lines.push(`### ${id}`, '', `\`${key}\` as ${steps.map((s) => `\`${s}\``).join(', ')} write it:`, '')
    lines.push('```json', JSON.stringify(schema, null, 2), '```', '')
  }
  return `${lines.join('\n').trimEnd()}\n`
}
