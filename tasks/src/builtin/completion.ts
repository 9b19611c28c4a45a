import { defineOutput, definePlugin, defineStep, lazySchema, type Plugin, UsageError } from '@berth/contract'
import * as z from 'zod'
import { COMMANDS, type CommandSpec, GLOBAL_OPTIONS } from '../commands.js'
import { commandStepFlags, runnerState } from '../runner-state.js'

const SHELLS = ['bash', 'zsh', 'fish'] as const
type Shell = (typeof SHELLS)[number]

/** Commands whose first argument is a registered instance name. */
const TAKES_INSTANCE = COMMANDS.filter((c) => /^(<name|\[name\])/.test(c.args?.[0] ?? '')).map((c) => c.path.join(' '))

/** Flags a command's pipeline steps declare (loaded plugins and config); none by default. */
type StepFlagNames = (command: CommandSpec) => string[]

function flagsOf(command: CommandSpec, stepFlags: StepFlagNames): string[] {
  const names = new Set([...Object.keys({ ...command.options, ...GLOBAL_OPTIONS }), ...stepFlags(command)])
  return [...names].map((name) => `--${name}`)
}

/** The words that can follow `prefix` (command path so far). */
function nextWords(prefix: string[]): string[] {
  const words = new Set<string>()
  for (const command of COMMANDS) {
    if (command.path.length > prefix.length && prefix.every((word, i) => command.path[i] === word)) {
      words.add(command.path[prefix.length]!)
    }
  }
  return [...words]
}

function bashScript(stepFlags: StepFlagNames): string {
  const cases: string[] = []
  const prefixes = new Set<string>([''])
  for (const command of COMMANDS)
    for (let i = 1; i < command.path.length; i++) prefixes.add(command.path.slice(0, i).join(' '))
  for (const prefix of prefixes) {
    const words = nextWords(prefix ? prefix.split(' ') : [])
    cases.push(`    "${prefix}") words="${words.join(' ')}" ;;`)
  }
  for (const command of COMMANDS) {
    const path = command.path.join(' ')
    const names = TAKES_INSTANCE.includes(path) ? '$(berth __complete instances 2>/dev/null)' : ''
    const flags = flagsOf(command, stepFlags).join(' ')
    // A leaf command: its flags after '-', else instance names where it takes one.
    cases.push(`    "${path}") if [[ $cur == -* ]]; then words="${flags}"; else words="${names}"; fi ;;`)
  }
  return `# berth completion for bash: source <(berth completion bash)
_berth_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]} line="" word words=""
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    [[ $word == -* ]] && continue
    line="\${line:+$line }$word"
  done
  case "$line" in
${cases.join('\n')}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _berth_complete berth
`
}

function zshScript(stepFlags: StepFlagNames): string {
  return `#compdef berth
# berth completion for zsh: source <(berth completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(stepFlags)}`
}

function fishScript(): string {
  const lines = ['# berth completion for fish: berth completion fish | source', 'complete -c berth -f']
  for (const word of nextWords([])) {
    const summary = COMMANDS.find((c) => c.path[0] === word && c.path.length === 1)?.summary ?? `${word} commands`
    lines.push(`complete -c berth -n __fish_use_subcommand -a ${word} -d ${JSON.stringify(summary.slice(0, 60))}`)
  }
  for (const command of COMMANDS.filter((c) => c.path.length === 2)) {
    lines.push(
      `complete -c berth -n "__fish_seen_subcommand_from ${command.path[0]}" -a ${command.path[1]} -d ${JSON.stringify(command.summary.slice(0, 60))}`,
    )
  }
  for (const path of TAKES_INSTANCE) {
    lines.push(
      `complete -c berth -n "__fish_seen_subcommand_from ${path}" -a "(berth __complete instances 2>/dev/null)"`,
    )
  }
  for (const [name, option] of Object.entries(GLOBAL_OPTIONS)) {
    lines.push(`complete -c berth -l ${name} -d ${JSON.stringify(option.description)}`)
  }
  return `${lines.join('\n')}\n`
}

export function completionScript(shell: string, stepFlags: StepFlagNames = () => []): string {
  if (!SHELLS.includes(shell as Shell)) {
    throw new UsageError(`no completion for shell ${JSON.stringify(shell)}`, {
      hint: `use one of: ${SHELLS.join(', ')}`,
    })
  }
  return shell === 'bash' ? bashScript(stepFlags) : shell === 'zsh' ? zshScript(stepFlags) : fishScript()
}

const scriptOutput = defineOutput(
  'script',
  lazySchema(() => z.string()),
  {
    description: 'the completion script for the shell',
    render: (script) => [script.trimEnd()],
  },
)

/** `berth:completion` — `berth completion <shell>`. Names come from `berth __complete instances`. */
export function completionPlugin(): Plugin {
  return definePlugin({
    name: 'berth:completion',
    version: '0.1.0',
    steps: {
      script: defineStep({
        description: 'prints the completion script for bash, zsh or fish',
        outputs: [scriptOutput],
        run(ctx) {
          const runner = runnerState.get(ctx)
          const stepFlags = (command: CommandSpec) =>
            runner ? commandStepFlags(command, runner).map((flag) => flag.name) : []
          ctx.output.script = completionScript(ctx.args.positionals[0] ?? '', stepFlags)
        },
      }),
    },
  })
}
