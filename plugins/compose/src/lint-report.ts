/** The findings of `compose.lint` and how they print. */

export type LintRule =
  | 'unreadable-file'
  | 'yaml-syntax'
  | 'container-name'
  | 'fixed-host-port'
  | 'shared-resource'
  | 'host-root-mount'
  | 'port-all-interfaces'
  | 'host-network'

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

/** Errors break parallel instances (exit 2); warnings are printed and allowed. */
export interface LintReport {
  errors: LintProblem[]
  warnings: LintProblem[]
}

export interface LintOptions {
  /** Services allowed to publish literal host ports. */
  allowFixedPorts?: string[]
  /** Top-level volumes/networks allowed to be shared between instances. */
  allowShared?: string[]
  /** File names in problems are shown relative to this folder when they are inside it. */
  cwd?: string
}

export function formatLintProblem(problem: Omit<LintProblem, 'text'>): string {
  const where = problem.line > 0 ? `${problem.file}:${problem.line}` : problem.file
  return `${where}: ${problem.subject ? `${problem.subject}: ` : ''}${problem.message}`
}

/** Appends a problem with its printed `text`. */
export function addProblem(list: LintProblem[], problem: Omit<LintProblem, 'text'>): void {
  list.push({ ...problem, text: formatLintProblem(problem) })
}
