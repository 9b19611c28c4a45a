/**
 * The CLI surface as data: every command, its flags and the pipeline it runs. Kept free of
 * imports so `berth --help` and `--version` start without loading plugins or libraries.
 */
export interface OptionSpec {
  type: 'boolean' | 'string'
  description: string
  /** Shown in help for string options, e.g. `N`. */
  value?: string
  short?: string
}

export type CommandKind = 'sandbox' | 'impl' | 'spec' | 'local-prod'

export interface CommandSpec {
  path: string[]
  summary: string
  /** Positional arguments, e.g. `<feature>`; a trailing `?` marks optional ones. */
  args?: string[]
  options?: Record<string, OptionSpec>
  /** The pipeline this command runs (see pipelines.ts). */
  pipeline: string
  kind?: CommandKind
  /** Extra lines for `--help`. */
  details?: string
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print one JSON document on stdout and nothing else there' },
  cwd: { type: 'string', value: 'DIR', description: 'run as if started in DIR' },
  verbose: { type: 'boolean', description: 'also print debug lines' },
  quiet: { type: 'boolean', short: 'q', description: 'print only warnings, errors and the result' },
  help: { type: 'boolean', short: 'h', description: 'show help' },
}

const slotOption: OptionSpec = {
  type: 'string',
  value: 'N',
  description: 'use slot N instead of the lowest free pool slot',
}

export const COMMANDS: CommandSpec[] = [
  {
    path: ['sandbox', 'init'],
    summary: 'register the current clone or worktree as a sandbox: claim a slot, write .env.sandbox',
    options: {
      slot: slotOption,
      name: { type: 'string', value: 'NAME', description: 'instance id (default: the folder name, slugged)' },
    },
    pipeline: 'sandbox.init',
    kind: 'sandbox',
  },
  {
    path: ['sandbox', 'slots'],
    summary: 'list every slot: pool or manual, free or claimed, and its ports',
    pipeline: 'sandbox.slots',
  },
  {
    path: ['sandbox', 'release'],
    summary: "release a slot's claim (stale claims); never touches folders or containers",
    args: ['<slot>'],
    pipeline: 'sandbox.release',
  },
  {
    path: ['url'],
    summary: 'print the API URL: --url, then --port, then .env.sandbox upward, then the default',
    options: {
      url: { type: 'string', value: 'U', description: 'an explicit URL (wins over everything)' },
      port: { type: 'string', value: 'P', description: 'a port on 127.0.0.1' },
    },
    pipeline: 'url',
  },
  {
    path: ['config', 'show'],
    summary: 'print the resolved config (defaults and presets filled in)',
    pipeline: 'config.show',
  },
  {
    path: ['config', 'schema'],
    summary: 'print the JSON Schema of the config file (for editor completion)',
    pipeline: 'config.schema',
  },
  {
    path: ['doctor'],
    summary: 'check git, the Docker engine, compose flavour, op, the registry and stale claims',
    pipeline: 'doctor',
  },
]

export function findCommand(words: string[]): { command: CommandSpec; rest: string[] } | undefined {
  let best: CommandSpec | undefined
  for (const command of COMMANDS) {
    if (command.path.every((word, index) => words[index] === word)) {
      if (!best || command.path.length > best.path.length) best = command
    }
  }
  return best ? { command: best, rest: words.slice(best.path.length) } : undefined
}
