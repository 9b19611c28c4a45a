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
  /** For flags declared by steps: the steps that read it (shown in help). */
  readBy?: string[]
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
  /** Pipeline entries left out when a boolean flag is set, e.g. `{ 'no-up': ['@stack.up'] }`. */
  drop?: Record<string, string[]>
  /**
   * `--all`: run the command for every instance of the project, each as its own run (see all.ts).
   * `name-required`: without --all the `[name]` argument must be given.
   */
  allOption?: 'name-optional' | 'name-required'
  /**
   * Error codes after which the completed steps are kept rather than undone: `sandbox up` and
   * `local-prod up` start a persistent stack, which stays up for inspection when its gate fails.
   */
  keepOn?: string[]
  /**
   * A command agents call in loops that changes nothing: the config sections its steps do not read
   * are not validated (issue 16; `berth config show` and every other command validate the whole
   * file). Honoured only while every step of its pipeline declares the `read` effect.
   */
  readOnly?: true
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

// --timeout and --no-wait are declared by gate.wait, --build by compose.up: help lists them from there.
const upOptions: Record<string, OptionSpec> = {
  'no-secrets': { type: 'boolean', description: "skip the secrets provider; use the config's insecure defaults" },
}
/** The running-stacks cap, for the help of every command that starts a stack. */
const CAP_DETAILS =
  'With a cap on running stacks (limits.maxRunning, or BERTH_MAX_RUNNING for the whole machine), a start beyond it exits 3 before anything is made, naming the running stacks; --queue waits for one to stop. An instance that already runs is never refused.'
const forceOption: OptionSpec = {
  type: 'boolean',
  description: 'remove even with uncommitted or unpushed work (it is lost)',
}
const branchOption: OptionSpec = {
  type: 'string',
  value: 'BRANCH',
  description:
    "check out the existing BRANCH (local, or the remote's, tracked locally) instead of creating <kind>/<feature>; done keeps it",
}
const allOption: OptionSpec = {
  type: 'boolean',
  description:
    'every instance of this project (not local-prod), each as safely as one at a time; reports what went and what stayed (exit 3 when some stayed for unsaved work, 1 when one failed)',
}
const dryRunOption: OptionSpec = { type: 'boolean', description: 'print what would be done and change nothing' }

export const COMMANDS: CommandSpec[] = [
  {
    path: ['impl'],
    summary: 'worktree ../<project>-impl-<feature> on impl/<feature>, claim a slot, write .env.sandbox, start, gate',
    args: ['<feature>'],
    details:
      "<feature> may be typed as feature/milestone and in any case: 'impl genome/M1' makes ../<project>-impl-genome-m1 on impl/genome-M1.\n" +
      CAP_DETAILS,
    options: {
      slot: slotOption,
      branch: branchOption,
      'no-up': { type: 'boolean', description: 'create and register only; start later with sandbox up' },
      from: {
        type: 'string',
        value: 'REF',
        description: "start the branch from REF (default: the remote's default branch)",
      },
      ...upOptions,
      'keep-on-failure': {
        type: 'boolean',
        description: 'on failure, keep what was made (for debugging) instead of undoing',
      },
    },
    pipeline: 'impl',
    kind: 'impl',
    drop: { 'no-up': ['@stack.up', 'registry.capacity'] },
  },
  {
    path: ['spec'],
    summary: 'worktree ../<project>-spec-<feature> on spec/<feature>; no slot, no containers',
    args: ['<feature>'],
    options: { branch: branchOption, from: { type: 'string', value: 'REF', description: 'start the branch from REF' } },
    pipeline: 'spec',
    kind: 'spec',
  },
  {
    path: ['done'],
    summary: 'refuse on unsaved work unless --force; stop, remove volumes, remove the worktree, release the slot',
    args: ['[name]?'],
    options: { force: forceOption, 'dry-run': dryRunOption, all: allOption },
    pipeline: 'done',
    allOption: 'name-required',
    details:
      'done --all removes every instance of this project one by one: one with unsaved work stays (unless --force) and the others still go; the report lists both. Exit 0 when all went, 3 when some stayed for a conflict (unsaved work, a folder berth did not create), 1 when a removal failed.',
  },
  {
    path: ['worktrees'],
    summary: 'every worktree of the repository with kind, branch, slot and dirty/unpushed state',
    pipeline: 'worktrees',
    readOnly: true,
  },
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
    path: ['sandbox', 'up'],
    summary: 'start the stack (port check, lint, secrets, compose up) and run the gate',
    options: upOptions,
    details: CAP_DETAILS,
    pipeline: 'sandbox.up',
    keepOn: ['E_GATE'],
  },
  {
    path: ['sandbox', 'down'],
    summary: 'stop the stack (its data stays unless --volumes)',
    pipeline: 'sandbox.down',
  },
  {
    path: ['sandbox', 'status'],
    summary: 'this instance: containers and their health, ports, URLs',
    pipeline: 'sandbox.status',
    readOnly: true,
  },
  {
    path: ['sandbox', 'list'],
    summary: 'all instances: slot, state, running/total containers, API port, age; orphan stacks',
    pipeline: 'sandbox.list',
    readOnly: true,
  },
  {
    path: ['sandbox', 'slots'],
    summary: 'list every slot: pool or manual; free, claimed, blocked by another project or held; its ports',
    pipeline: 'sandbox.slots',
    readOnly: true,
  },
  {
    path: ['sandbox', 'logs'],
    summary: "the stack's logs (secrets redacted)",
    args: ['[service]?'],
    pipeline: 'sandbox.logs',
  },
  {
    path: ['sandbox', 'destroy'],
    summary: 'stop the stack, remove its volumes, release the slot, remove the worktree berth made',
    args: ['[name]?'],
    details:
      "Acts on the instance named, else the one containing the current folder. A clone registered with sandbox init is not berth's to delete: use --keep-worktree (or --force to delete it anyway). --all: every instance of this project one by one (not local-prod); one with unsaved work stays unless --force, the others still go. Exit 0 when all went, 3 when some stayed for a conflict, 1 when a removal failed.",
    allOption: 'name-optional',
    options: {
      all: allOption,
      force: forceOption,
      'keep-worktree': { type: 'boolean', description: 'keep the folder' },
      'dry-run': dryRunOption,
    },
    pipeline: 'sandbox.destroy',
    drop: { 'keep-worktree': ['worktree.check', 'worktree.remove'] },
  },
  {
    path: ['sandbox', 'release'],
    summary: "release a slot's claim (stale claims); never touches folders or containers",
    args: ['<slot>'],
    pipeline: 'sandbox.release',
  },
  {
    path: ['local-prod', 'init'],
    summary: 'register this clone (not a worktree) as the singleton local-prod on slot 0',
    pipeline: 'local-prod.init',
    kind: 'local-prod',
  },
  {
    path: ['local-prod', 'up'],
    summary: 'start local-prod (secrets required) and run the gate',
    options: upOptions,
    details: CAP_DETAILS,
    pipeline: 'local-prod.up',
    keepOn: ['E_GATE'],
    kind: 'local-prod',
  },
  {
    path: ['local-prod', 'down'],
    summary: 'stop local-prod',
    pipeline: 'local-prod.down',
    kind: 'local-prod',
  },
  {
    path: ['local-prod', 'status'],
    summary: "local-prod's containers and health",
    pipeline: 'local-prod.status',
    readOnly: true,
    kind: 'local-prod',
  },
  {
    path: ['local-prod', 'destroy'],
    summary: 'stop local-prod, remove its volumes and release slot 0 (acts on the registered path; keeps the clone)',
    options: { 'dry-run': dryRunOption },
    pipeline: 'local-prod.destroy',
    kind: 'local-prod',
  },
  {
    path: ['gate'],
    summary: 'run the startability gate alone',
    pipeline: 'gate',
  },
  {
    path: ['compose', 'config'],
    summary: 'print the compose file berth runs for this instance (rendered from yours; --json: what changed)',
    pipeline: 'compose.config',
    details:
      "berth renders your compose files into .sandbox/compose.yaml: fixed host ports -> this instance's ports on 127.0.0.1, no container_name, per-instance volume/network names, INSTANCE_ID / SLOT_NUMBER / OTEL_RESOURCE_ATTRIBUTES and berth.* labels in every service. Your files are never changed. Turn it off with compose.render.enabled: false.",
  },
  {
    path: ['url'],
    summary: 'print the API URL: --url, then --port, then .env.sandbox upward, then the default',
    pipeline: 'url',
    readOnly: true,
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
    summary:
      'check git, the Docker engine, compose flavour, op, the registry, stale claims, interrupted operations, orphans and unregistered worktrees',
    options: {
      'dry-run': { type: 'boolean', description: 'with --fix: list the repairs, change nothing' },
    },
    pipeline: 'doctor',
  },
  {
    path: ['test', 'e2e'],
    summary: "run the stack's test service (compose run --rm) on the instance's network; artifacts go to evidence",
    args: ['[args...]?'],
    pipeline: 'test.e2e',
    details: 'Arguments after -- are passed to the test service, e.g. berth test e2e -- --grep health',
  },
  {
    path: ['exec'],
    summary: 'run a command in a running service of this instance (compose exec -T; output redacted)',
    args: ['<service>', '[command...]?'],
    pipeline: 'exec',
    details:
      "Put the command after --, e.g. berth exec backend -- node /app/migrate.mjs. berth exits with the command's exit code.",
  },
  {
    path: ['run'],
    summary: "run a command in this instance's workspace container (its checkout at /workspace; output redacted)",
    args: ['[command...]?'],
    pipeline: 'run',
    details:
      "Needs a workspace section in the config (docs/workspace.md). Put the command after --, e.g. berth run -- pnpm test. The workspace sees the instance's checkout at /workspace and nothing else of the host, reaches the stack's services by name (http://backend:8000) and nothing else unless workspace.allow says so, and gets only the secrets workspace.secrets names. berth exits with the command's exit code; --json gives {run: {command, exitCode, durationMs, output}}. Each run is recorded in .sandbox/workspace/runs.jsonl, which every evidence bundle copies.",
  },
  {
    path: ['shell'],
    summary: "open a shell in this instance's workspace container (docker exec -it when stdin is a terminal)",
    pipeline: 'shell',
    details:
      "Needs a workspace section in the config (docs/workspace.md). bash where the image has it, else sh, in /workspace. berth exits with the shell's exit code; the session is recorded in .sandbox/workspace/runs.jsonl (without a terminal's output).",
  },
  {
    path: ['evidence'],
    summary: 'write an evidence bundle: config, .env.sandbox, gate report, container state, logs, git state',
    options: {
      out: {
        type: 'string',
        value: 'DIR',
        description: 'write the bundle into DIR instead of .sandbox/evidence/<UTC time>',
      },
    },
    pipeline: 'evidence',
  },
  {
    path: ['shared', 'init'],
    summary: 'create $BERTH_HOME/shared/<dirs> from a folder or tarball, or as an empty skeleton',
    pipeline: 'shared.init',
  },
  {
    path: ['shared', 'status'],
    summary: 'shared data folders: sizes and which instances mount them',
    pipeline: 'shared.status',
  },
  {
    path: ['setup'],
    summary: 'add sandbox:* scripts, .gitignore entries and a berth.config.ts read from your compose files',
    details:
      "Reads compose.yaml / docker-compose.yml (and its .override file): one port variable per published host port (base = today's port, a stride that keeps slots apart), a gate from the healthchecks (else TCP, HTTP where a port evidently serves HTTP), secrets as a commented example. Prints what it inferred and why. --preset ktrdr|minimal writes a preset instead; an existing config is never touched.",
    pipeline: 'setup',
  },
  {
    path: ['mcp'],
    summary: 'serve berth as a Model Context Protocol server over stdio, for coding agents',
    pipeline: 'mcp',
    details:
      'Tools: impl, list, status, url, logs, up, gate, test_e2e, evidence, done (destructive). Each runs berth --json.\nRegister it with an agent, e.g.: claude mcp add berth -- npx berth mcp',
  },
  {
    path: ['completion'],
    summary: 'print the shell completion script for bash, zsh or fish',
    args: ['<shell>'],
    pipeline: 'completion',
    details:
      'bash: source <(berth completion bash)   zsh: source <(berth completion zsh)   fish: berth completion fish | source',
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
