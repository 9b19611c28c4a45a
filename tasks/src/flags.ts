import { type FlagDef, UsageError } from '@berth/contract'
import type { CommandSpec, OptionSpec } from './commands.js'
import type { BoundStep } from './runner.js'

/** A flag some step of a command's pipeline declares, with the steps that read it. */
export interface StepFlag {
  name: string
  def: FlagDef
  steps: string[]
  /** The command lists it among its own options too (help shows it there). */
  ownedByCommand: boolean
}

/**
 * The flags the steps of a pipeline declare, merged by name. Two steps may read one flag when
 * they declare it alike; a flag declared twice with different types, or clashing with one of the
 * command's own options, is a config problem (a plugin would silently read the other's value).
 */
export function collectStepFlags(command: CommandSpec, steps: BoundStep[], problems: string[]): StepFlag[] {
  const byName = new Map<string, StepFlag>()
  for (const bound of steps) {
    for (const [name, def] of Object.entries(bound.step.flags ?? {})) {
      const own = command.options?.[name]
      if (own && own.type !== def.type) {
        problems.push(
          `${bound.id}: flag --${name} is a ${def.type}, but 'berth ${command.path.join(' ')}' has it as a ${own.type}`,
        )
        continue
      }
      const seen = byName.get(name)
      if (!seen) byName.set(name, { name, def, steps: [bound.id], ownedByCommand: own !== undefined })
      else if (seen.def.type !== def.type)
        problems.push(
          `${bound.id}: flag --${name} is a ${def.type}, but ${seen.steps[0]} declares it as a ${seen.def.type}`,
        )
      else seen.steps.push(bound.id)
    }
  }
  return [...byName.values()]
}

/** The flags as `parseArgs`/help options. */
export function stepFlagOptions(flags: StepFlag[]): Record<string, OptionSpec> {
  return Object.fromEntries(
    flags
      .filter((f) => !f.ownedByCommand)
      .map(({ name, def, steps }) => [
        name,
        {
          type: def.type,
          description: def.description,
          ...(def.type === 'string' ? { value: def.value } : {}),
          ...(def.short ? { short: def.short } : {}),
          readBy: steps,
        } satisfies OptionSpec,
      ]),
  )
}

/**
 * Checks and converts every given value flag through its schema, before any step runs: `--timeout
 * abc` exits 2 with nothing created. Returns the values steps see.
 */
export function parseFlagValues(
  given: Record<string, string | boolean | undefined>,
  flags: StepFlag[],
  commandPath: string[],
): Record<string, unknown> {
  const values: Record<string, unknown> = { ...given }
  for (const { name, def } of flags) {
    const raw = given[name]
    if (raw === undefined || def.type !== 'string' || !def.schema) continue
    const parsed = def.schema.safeParse(raw)
    if (!parsed.success) {
      const reason = parsed.error.issues.map((issue) => issue.message).join('; ')
      throw new UsageError(`--${name} ${JSON.stringify(raw)}: ${reason}`, {
        hint: `run 'berth ${commandPath.join(' ')} --help' for its options`,
      })
    }
    values[name] = parsed.data
  }
  return values
}
