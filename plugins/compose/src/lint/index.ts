export * from './files.js'
export * from './interpolate.js'
export * from './mounts.js'
export {
  addProblem,
  formatLintProblem,
  IDENTITY_VARIABLES,
  type LintOptions,
  type LintProblem,
  type LintReport,
  type LintRule,
} from './report.js'
export * from './syntax.js'
