import { parseArgs } from 'node:util'
import { UsageError } from '@berth/contract'
import { COMMANDS, type CommandSpec, findCommand, GLOBAL_OPTIONS, type OptionSpec } from './commands.js'
import { commandHelp, groupHelp } from './help.js'

export interface Invocation {
  command: CommandSpec
  positionals: string[]
  flags: Record<string, string | boolean | undefined>
}

const optionNames = (type: OptionSpec['type']) =>
  new Set(
    [GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options ?? {})].flatMap((options) =>
      Object.entries(options)
        .filter(([, o]) => o.type === type)
        .map(([name]) => `--${name}`),
    ),
  )
const BOOLEAN_OPTIONS = optionNames('boolean')
const STRING_OPTIONS = optionNames('string')

/** The leading words of argv that name a command (option values skipped). */
function commandWords(argv: string[], unknownTakeValues = false): string[] {
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--') break
    if (token.startsWith('-')) {
      const known = STRING_OPTIONS.has(token) || BOOLEAN_OPTIONS.has(token)
      if (STRING_OPTIONS.has(token) || (unknownTakeValues && !known && !token.includes('='))) i++
      continue
    }
    words.push(token)
  }
  return words
}

/**
 * Finds the command argv names, without loading anything: the full parse needs the flags its
 * pipeline's steps declare, so it happens in {@link parseInvocation} once plugins are loaded.
 */
export function locateCommand(argv: string[]): { command: CommandSpec } | { help: string } {
  let words = commandWords(argv)
  let found = findCommand(words)
  // A step's value flag before the command words (`berth --timeout 5 sandbox up`): not in the
  // static table, so try again taking every `--flag` without `=` as one that takes a value.
  if (!found) {
    const retry = commandWords(argv, true)
    if (findCommand(retry)) {
      words = retry
      found = findCommand(retry)
    }
  }
  if (!found) {
    const group = words[0] !== undefined ? groupHelp(words[0]) : undefined
    if (group && words.length === 1) return { help: group }
    throw new UsageError(words.length === 0 ? 'no command given' : `unknown command '${words.join(' ')}'`, {
      hint: "run 'berth --help' for the list of commands",
    })
  }
  return { command: found.command }
}

/**
 * Parses argv for `command`, whose options are its own, the global ones and `stepOptions` (the
 * flags its pipeline's steps declare); throws UsageError (exit 2) for anything unknown.
 */
export function parseInvocation(
  argv: string[],
  command: CommandSpec,
  stepOptions: Record<string, OptionSpec> = {},
  documentLines: string[] = [],
): Invocation | { help: string } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const [name, option] of Object.entries<OptionSpec>({ ...GLOBAL_OPTIONS, ...stepOptions, ...command.options })) {
    options[name] = option.short ? { type: option.type, short: option.short } : { type: option.type }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify.*$/s, '')}`, {
      hint: `run 'berth ${command.path.join(' ')} --help' for its options`,
    })
  }
  if (parsed.values.help) return { help: commandHelp(command, stepOptions, documentLines) }
  const positionals = dropCommandWords(parsed.positionals, command.path)
  const required = (command.args ?? []).filter((a) => !a.endsWith('?'))
  const variadic = (command.args ?? []).some((a) => a.includes('...'))
  if (!variadic && positionals.length > (command.args ?? []).length) {
    throw new UsageError(`unexpected argument '${positionals[(command.args ?? []).length]}'`, {
      hint: `usage: berth ${[...command.path, ...(command.args ?? [])].join(' ')}`,
    })
  }
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required[positionals.length]}`, {
      hint: `usage: berth ${[...command.path, ...(command.args ?? [])].join(' ')}`,
    })
  }
  return { command, positionals, flags: parsed.values as Invocation['flags'] }
}

/** The positionals after the command's own words. */
function dropCommandWords(positionals: string[], path: string[]): string[] {
  return path.every((word, index) => positionals[index] === word) ? positionals.slice(path.length) : positionals
}
