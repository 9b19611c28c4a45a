import { COMMANDS, type CommandSpec, GLOBAL_OPTIONS, type OptionSpec } from './commands.js'

/** `[service]?` / `[args...]?` are written `[service]` / `[args...]` for people. */
const shownArgs = (command: CommandSpec) => (command.args ?? []).map((arg) => arg.replace(/\?$/, ''))

function optionLines(options: Record<string, OptionSpec>): string[] {
  return Object.entries(options).map(([name, option]) => {
    const flag = `${option.short ? `-${option.short}, ` : '    '}--${name}${option.value ? ` ${option.value}` : ''}`
    const readBy = option.readBy ? ` (${option.readBy.join(', ')})` : ''
    return `  ${flag.padEnd(26)} ${option.description}${readBy}`
  })
}

function usage(command: CommandSpec, stepOptions: Record<string, OptionSpec>): string {
  const flags = Object.entries({ ...command.options, ...stepOptions }).map(
    ([name, o]) => `[--${name}${o.value ? ` ${o.value}` : ''}]`,
  )
  return ['berth', ...command.path, ...shownArgs(command), ...flags].join(' ')
}

export function rootHelp(version: string): string {
  const groups = new Map<string, CommandSpec[]>()
  for (const command of COMMANDS) {
    const group = command.path.length > 1 ? command.path[0]! : ''
    groups.set(group, [...(groups.get(group) ?? []), command])
  }
  const lines = [
    `berth ${version} — many isolated, fully working development stacks of one repository, side by side`,
    '',
    'Usage: berth <command> [options]',
    '',
    'Commands:',
  ]
  for (const [, commands] of groups) {
    for (const command of commands) {
      const name = [...command.path, ...shownArgs(command)].join(' ')
      lines.push(`  ${name.padEnd(26)} ${command.summary}`)
    }
  }
  lines.push(
    '',
    'Options for every command:',
    ...optionLines(GLOBAL_OPTIONS),
    '      --version              print the version',
  )
  lines.push(
    '',
    'Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 conflict (or busy), 4 environment missing, 130 interrupted.',
  )
  lines.push("Run 'berth <command> --help' for a command's options.")
  return `${lines.join('\n')}\n`
}

/**
 * A command's help: its own options, then the flags its pipeline's steps declare (each with the
 * steps that read it), then the global ones.
 */
export function commandHelp(
  command: CommandSpec,
  stepOptions: Record<string, OptionSpec> = {},
  documentLines: string[] = [],
): string {
  const lines = [`Usage: ${usage(command, stepOptions)}`, '', command.summary]
  if (command.details) lines.push('', command.details)
  if (command.options && Object.keys(command.options).length > 0)
    lines.push('', 'Options:', ...optionLines(command.options))
  if (Object.keys(stepOptions).length > 0) lines.push('', 'Options of its steps:', ...optionLines(stepOptions))
  lines.push('', 'Global options:', ...optionLines(GLOBAL_OPTIONS))
  lines.push(...documentLines)
  return `${lines.join('\n')}\n`
}

export function groupHelp(group: string): string | undefined {
  const commands = COMMANDS.filter((c) => c.path.length > 1 && c.path[0] === group)
  if (commands.length === 0) return undefined
  const lines = [`Usage: berth ${group} <command> [options]`, '', 'Commands:']
  for (const command of commands) {
    const name = [...command.path, ...shownArgs(command)].join(' ')
    lines.push(`  ${name.padEnd(26)} ${command.summary}`)
  }
  return `${lines.join('\n')}\n`
}
