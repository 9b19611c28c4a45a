import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { BerthError, UsageError } from '@berth/contract'
import { COMMANDS, type CommandSpec, findCommand, GLOBAL_OPTIONS, type OptionSpec } from './commands.js'
import { commandHelp, groupHelp, rootHelp } from './help.js'
import { renderError } from './output.js'

/** The version in berth's package.json: next to `dist/` (tsc output) or `dist/bundle/` (the bundle). */
export function berthVersion(): string {
  for (const relative of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        name?: string
        version: string
      }
      if (pkg.name === 'berth') return pkg.version
    } catch {
      // not at this depth
    }
  }
  return '0.0.0'
}

export interface Invocation {
  command: CommandSpec
  positionals: string[]
  flags: Record<string, string | boolean | undefined>
}

const STRING_OPTIONS = new Set(
  [GLOBAL_OPTIONS, ...COMMANDS.map((c) => c.options ?? {})].flatMap((options) =>
    Object.entries(options)
      .filter(([, o]) => o.type === 'string')
      .map(([name]) => `--${name}`),
  ),
)

/** The leading words of argv that name a command (option values skipped). */
function commandWords(argv: string[]): string[] {
  const words: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--') break
    if (token.startsWith('-')) {
      if (STRING_OPTIONS.has(token)) i++
      continue
    }
    words.push(token)
  }
  return words
}

/** Parses argv into a command and its flags; throws UsageError (exit 2) for anything unknown. */
export function parseInvocation(argv: string[]): Invocation | { help: string } {
  const words = commandWords(argv)
  const found = findCommand(words)
  if (!found) {
    const group = words[0] !== undefined ? groupHelp(words[0]) : undefined
    if (group && words.length === 1) return { help: group }
    throw new UsageError(words.length === 0 ? 'no command given' : `unknown command '${words.join(' ')}'`, {
      hint: "run 'berth --help' for the list of commands",
    })
  }
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {}
  for (const [name, option] of Object.entries<OptionSpec>({ ...GLOBAL_OPTIONS, ...found.command.options })) {
    options[name] = option.short ? { type: option.type, short: option.short } : { type: option.type }
  }
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (error) {
    throw new UsageError(`${(error as Error).message.replace(/\. To specify.*$/s, '')}`, {
      hint: `run 'berth ${found.command.path.join(' ')} --help' for its options`,
    })
  }
  if (parsed.values.help) return { help: commandHelp(found.command) }
  const positionals = parsed.positionals.slice(found.command.path.length)
  const required = (found.command.args ?? []).filter((a) => !a.endsWith('?'))
  const variadic = (found.command.args ?? []).some((a) => a.includes('...'))
  if (!variadic && positionals.length > (found.command.args ?? []).length) {
    throw new UsageError(`unexpected argument '${positionals[(found.command.args ?? []).length]}'`, {
      hint: `usage: berth ${[...found.command.path, ...(found.command.args ?? [])].join(' ')}`,
    })
  }
  if (positionals.length < required.length) {
    throw new UsageError(`missing ${required[positionals.length]}`, {
      hint: `usage: berth ${[...found.command.path, ...(found.command.args ?? [])].join(' ')}`,
    })
  }
  return { command: found.command, positionals, flags: parsed.values as Invocation['flags'] }
}

/**
 * `berth __complete instances`: registered instance ids, one a line, for shell completion. Reads
 * the registry directly (no lock, no plugins) so a TAB press stays fast; silent on any problem.
 */
function completeWords(args: string[]): number {
  if (args[0] !== 'instances') return 0
  try {
    const home = process.env.BERTH_HOME ?? join(homedir(), '.berth')
    const registry = JSON.parse(readFileSync(join(home, 'registry.json'), 'utf8')) as { instances?: { id: string }[] }
    for (const instance of registry.instances ?? []) process.stdout.write(`${instance.id}\n`)
  } catch {
    // no registry yet: nothing to complete
  }
  return 0
}

/** The CLI entry: returns the exit code; the only place errors become exit codes. */
export async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help'))) {
    process.stdout.write(rootHelp(berthVersion()))
    return 0
  }
  if (argv[0] === '--version' || argv[0] === '-v' || argv[0] === 'version') {
    process.stdout.write(`${berthVersion()}\n`)
    return 0
  }
  if (argv[0] === '__complete') return completeWords(argv.slice(1))
  const json = argv.includes('--json')
  let invocation: ReturnType<typeof parseInvocation>
  try {
    invocation = parseInvocation(argv)
  } catch (error) {
    return renderError(error instanceof BerthError ? error : new UsageError(String(error)), { json })
  }
  if ('help' in invocation) {
    process.stdout.write(invocation.help)
    return 0
  }
  const { execute } = await import('./execute.js')
  return execute(invocation)
}
