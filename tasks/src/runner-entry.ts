/**
 * The runner bundle's entry (scripts/bundle.mjs): the runner, and the CLI entry too, so that the
 * bin runs a command straight through this one bundle without loading the small one first.
 */
export { main } from './cli.js'
export { execute } from './execute.js'
