import type { InstanceKind, InstanceRecord, PortHolder } from './instance-record.js'
import type { Redactor } from './redact.js'

/** Where human-readable progress goes. With `--json` it goes to stderr; stdout stays one document. */
export interface Logger {
  info(message: string): void
  warn(message: string): void
  /** Shown with `--verbose` only. */
  debug(message: string): void
}

/**
 * Capabilities plugins offer each other through the runner. A plugin never imports another
 * plugin; it asks `ctx.services` and copes when a capability is absent.
 * Extend with declaration merging: `declare module '@berth/contract' { interface BerthServices … }`.
 */
export interface BerthServices {
  /** Host ports of a slot, env var -> port (ports plugin). */
  slotPorts?(slot: number): Record<string, number>
  /** Ports of a slot that something else holds, with the holder (ports plugin). */
  probeSlot?(slot: number): Promise<PortHolder[]>
  /** Which of `ports` something on the host holds, with the holder; `[]` when all are free (ports plugin). */
  probePorts?(ports: number[]): Promise<PortHolder[]>
  /**
   * Starts reading the host's table of listening ports now (the kernel takes milliseconds), for the
   * next `probePorts` to use; later probes read it afresh (ports plugin). For a step's `prefetch`.
   */
  prefetchPortProbe?(): void
  /** Host ports of a slot in berth's default (KTRDR) layout, whatever this project's layout (ports plugin). */
  defaultSlotPorts?(slot: number): Record<string, number>
  /** The highest slot number of the project's slot range (registry plugin's `slots.max`). */
  maxSlot?(): number
  /** Instances registered for this project in this repository (registry plugin). */
  listInstances?(): Promise<InstanceRecord[]>
  /**
   * Every instance registered on the machine, of every project and repository (registry plugin):
   * compose project names are engine-wide, so none of these is ever an orphan of this project.
   */
  machineInstances?(): Promise<InstanceRecord[]>
  /** The compose state of each of this project's registered instances, by id (compose plugin). */
  instanceStates?(): Promise<Record<string, { state: string; running: number; total: number }>>
  /**
   * Extra `.env.sandbox` lines for an instance (e.g. the shared-data folders, shared plugin).
   * Values must be inert (no secrets, no newlines); `env.write` adds them after the ports.
   */
  instanceEnv?(instance: InstanceRecord): Record<string, string> | Promise<Record<string, string>>
  /** The last `tail` log lines of the named services of the current instance (compose plugin). */
  serviceLogs?(services: string[], tail: number): Promise<string>
  /**
   * Registers every secret value of the current instance with `ctx.redactor`: what its secrets
   * provider yields now and what its containers were started with (secrets plugin). Loaded once
   * per command, in memory only, never failing. Every step that shows service or command output
   * (logs, gate log tails, evidence, `test e2e`, any compose output) awaits it first.
   */
  redactSecrets?(): Promise<void>
  /**
   * Runs the named gate checks (and the checks they wait for) within the gate's one deadline,
   * resolving when all pass and throwing the gate's own error (exit 1, code `E_GATE`, with its
   * diagnosis and log tail) when one fails (gate plugin). Lifecycle hooks use it to start only
   * once what they need is ready: a migration after the database accepts the instance's login.
   */
  passGateChecks?(names: string[]): Promise<void>
  /**
   * The fixed host ports the project's compose files publish (`"5432:5432"`, `${X:-6379}`), per
   * service and entry — not those whose value names one of `instanceVariables`, which already
   * differ per instance. `[]` when rendering is off or there is no compose file (compose plugin).
   */
  publishedHostPorts?(instanceVariables: string[]): PublishedHostPorts[]
  /**
   * For each entry, the `.env.sandbox` variable carrying each of its ports in every instance: the
   * layout's variable whose slot-0 port it is, else a derived one (`DB_5432_PORT`); undefined
   * when none can (ports plugin).
   */
  nameHostPorts?(published: PublishedHostPorts[]): (string[] | undefined)[]
  /** Reads compose files (merged, not interpolated) for `berth setup` (compose plugin). Throws `UsageError` for a broken file. */
  describeCompose?(files: string[]): ComposeSummary
  /** What makes a port layout collide over slots 0..maxSlot; [] when sound (ports plugin). */
  portLayoutProblems?(layout: Record<string, unknown>, maxSlot: number): string[]
  /**
   * The slot profile an instance runs: its recorded one, else the config's default; undefined
   * when it runs the stack as written (profiles plugin).
   */
  instanceProfile?(instance: Pick<InstanceRecord, 'profile'>): InstanceProfile | undefined
  /** Records (or with undefined, clears) the profile of a registered instance (registry plugin). */
  recordProfile?(id: string, profile: string | undefined): Promise<void>
  /**
   * The host services instances of `kind` reach through `host.docker.internal` (hostServices
   * plugin): undefined when that kind gets no host gateway at all, [] when it does but lists none.
   */
  hostServices?(kind: InstanceRecord['kind']): HostService[] | undefined
}

/** What one compose service declares that berth's setup reads (compose plugin's `describeCompose`). */
export interface ComposeServiceSummary {
  name: string
  /**
   * Published ports with a fixed host port (one port, or a range's in order) and the container port;
   * `index` is the entry's position in the service's `ports` list.
   */
  fixed: { ports: number[]; target: string; index?: number }[]
  /**
   * Published ports written with a variable (`${API_PORT:-8000}`): its name, its value (the literal
   * default, else the project's `.env`, as compose would read it — `defaultFrom` says which),
   * container port, and position in the service's `ports` list.
   */
  parameterised: {
    variable: string
    default?: number | undefined
    defaultFrom?: 'default' | '.env' | undefined
    target: string
    index?: number
  }[]
  /** A healthcheck that is not disabled. */
  healthcheck: boolean
  image?: string | undefined
  containerName?: string | undefined
}

/** A slot profile as the steps that apply it see it (profiles plugin's `instanceProfile`). */
export interface InstanceProfile {
  name: string
  /** Containers per compose service (0: left out). */
  scale: Record<string, number>
  /** Compose profiles it turns on. */
  composeProfiles: string[]
  /** Non-secret values for compose and the gate (`WORKERS: "4"`). */
  env: Record<string, string>
  /** The slots that can run it; absent: any pool slot. */
  slots?: number[]
}

/** A service running natively on the host that an instance's containers reach as `host.docker.internal`. */
export interface HostService {
  name: string
  /** Its port on the host (checked on 127.0.0.1 by doctor and the optional gate check). */
  port: number
}

/** The user's compose files as berth's setup reads them. */
export interface ComposeSummary {
  files: string[]
  services: ComposeServiceSummary[]
}

/** Fixed host ports one compose service publishes in one `ports` entry: one port, or a range's in order. */
export interface PublishedHostPorts {
  service: string
  ports: number[]
}

/** What the user asked for, set by the CLI before the pipeline runs. */
export interface TaskRequest {
  /** The feature or instance name as typed (validated by the step that uses it). */
  name?: string | undefined
  kind?: InstanceKind | undefined
  /** An explicit `--slot N`. */
  slot?: number | undefined
}

export interface RepoInfo {
  /** The main checkout (where `.git` is a folder). */
  root: string
  /** The checkout containing the cwd: the main checkout, a worktree or a clone. */
  checkout: string
  /** True when `checkout` is a linked worktree (`.git` is a file). */
  isWorktree: boolean
  /**
   * The `origin` remote's URL, normalised (a local path made real; `.git` and a trailing `/`
   * dropped otherwise); null when there is none, undefined when not looked up. Two clones of one
   * repository share it; two repositories that merely share a folder name do not.
   */
  origin?: string | null | undefined
}

export interface TaskArgs {
  positionals: string[]
  flags: Record<string, string | boolean | undefined>
}

export interface TaskContext {
  /** Pipeline name, e.g. `impl` or `sandbox.init`. */
  readonly task: string
  readonly cwd: string
  /** BERTH_HOME: registry, locks and shared data live here. */
  readonly home: string
  readonly config: ResolvedConfig
  readonly args: TaskArgs
  readonly log: Logger
  readonly redactor: Redactor
  readonly services: BerthServices
  readonly signal: AbortSignal
  readonly request: TaskRequest
  /** Set by whichever step finds or creates the repository / instance. */
  repo?: RepoInfo
  instance?: InstanceRecord
  /** Host ports of the instance, env var -> port. */
  ports?: Record<string, number>
  /** Non-secret environment of the instance (the `.env.sandbox` values). */
  env: Record<string, string>
  /** Secret environment: passed to child processes only, redacted everywhere else. */
  secretEnv: Record<string, string>
  /** What the task reports: printed as the `--json` document and rendered for humans. */
  output: Record<string, unknown>
  /** Data between a plugin's own steps; reach it only through `defineState` keys. */
  state: Record<string, unknown>
  /** Every flag given, parsed and validated before the first step (steps see theirs, typed). */
  readonly flags: Readonly<Record<string, unknown>>
  /** The config section the running step declared (set by the runner before each step). */
  settings: unknown
  /** The exit code the command ends with when no step throws (e.g. a test service's own code). */
  exitCode: number
  /** `--dry-run`: steps that change something are planned, not run; a step that runs checks only. */
  readonly dryRun?: boolean
  /** `--json`: stdout carries only the result document (a step streaming output sends it to stderr). */
  readonly json?: boolean
}

/** The resolved config: `project`, the repository root, and each section parsed by its schema. */
export interface ResolvedConfig {
  project: string
  /** Folder holding the config file (or the repository root when there is none). */
  root: string
  /** Path of the config file, or null when defaults are used. */
  file: string | null
  sections: Record<string, unknown>
}
