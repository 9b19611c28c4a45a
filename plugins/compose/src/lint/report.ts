/** The findings of `compose.lint` and how they print. */
import type { VariableValues } from './interpolate.js'

export type LintRule =
  | 'unreadable-file'
  | 'yaml-syntax'
  | 'container-name'
  | 'fixed-host-port'
  | 'shared-resource'
  | 'host-root-mount'
  | 'sensitive-mount'
  | 'port-all-interfaces'
  | 'host-network'
  | 'host-namespace'
  | 'privileged'
  | 'cap-add'

/** One finding, located at `file:line`. */
export interface LintProblem {
  file: string
  line: number
  column: number
  /** `service "api"`, `volume "data"`, `network "edge"`, or '' for the file itself. */
  subject: string
  rule: LintRule
  message: string
  /** `file:line: subject: message`, as printed. */
  text: string
}

/** Errors break parallel instances or expose the host (exit 2); warnings are printed and allowed. */
export interface LintReport {
  errors: LintProblem[]
  warnings: LintProblem[]
}

export interface LintOptions {
  /** Services allowed to publish literal host ports. */
  allowFixedPorts?: string[]
  /** Top-level volumes/networks allowed to be shared between instances. */
  allowShared?: string[]
  /**
   * Host paths a service may bind-mount although they are sensitive (the docker socket, `/etc`,
   * a home folder or its dot folders), as written in the compose file or as the normalised path.
   */
  allowMounts?: string[]
  /** Services allowed to publish ports on every interface (no host IP, `0.0.0.0`, `::`). */
  allowAllInterfaces?: string[]
  /** Services whose host powers (`privileged`, `cap_add`, `pid: host`…) are meant: no warning. */
  allowHostAccess?: string[]
  /**
   * berth renders the files per instance (`compose.render`): fixed host ports, ports on every
   * interface, `container_name` and fixed volume/network names are made per-instance, so they are
   * no problem; host networking, which rendering cannot move, is an error; external resources,
   * kept as they are, a warning.
   */
  rendered?: boolean
  /**
   * `compose.lint.strict`: the host-exposure warnings (a sensitive bind mount, `privileged`, host
   * namespaces, `cap_add`, a port on all interfaces) are errors — for configs agents run.
   */
  strict?: boolean
  /** File names in problems are shown relative to this folder when they are inside it. */
  cwd?: string
  /**
   * The variables compose resolves the file with that are the same for every instance (the
   * caller's environment, the project's `.env`). Default: none set.
   */
  variables?: VariableValues
  /**
   * Variables whose value differs per instance (the port layout's): a name or port built from one
   * of them is per-instance; one built from anything else is fixed. {@link IDENTITY_VARIABLES}
   * (`INSTANCE_ID`, `COMPOSE_PROJECT_NAME`, `SLOT_NUMBER`) always are.
   */
  instanceVariables?: string[]
  /** What `~` (and an unset `HOME`) stands for in bind sources. Default: `HOME` from `variables`. */
  home?: string
  /** Where relative bind sources start. Default: the folder of the file being linted. */
  projectDir?: string
}

/** The variables that differ per instance whatever the port layout (berth sets them itself). */
export const IDENTITY_VARIABLES = ['INSTANCE_ID', 'COMPOSE_PROJECT_NAME', 'SLOT_NUMBER']

export function formatLintProblem(problem: Omit<LintProblem, 'text'>): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}` : problem.file
  return `${where}: ${problem.subject ? `${problem.subject}: ` : ''}${problem.message}`
}

/** Appends a problem with its printed `text`. */
export function addProblem(list: LintProblem[], problem: Omit<LintProblem, 'text'>): void {
  list.push({ ...problem, text: formatLintProblem(problem) })
}
