#!/usr/bin/env node
'use strict'
// The installed bin runs compiled bundles (no TypeScript loader, no module resolution at
// start-up): dist/bundle/cli.cjs answers --help and --version and finds the command; the runner
// (dist/bundle/runner.cjs) is loaded only for a command, through V8's code cache (code-cache.cjs).
const { join } = require('node:path')

const argv = process.argv.slice(2)
const bundles = join(__dirname, '..', 'dist', 'bundle')
const { main } = require(join(bundles, 'cli.cjs'))
const loadRunner = async () =>
  // import() from here resolves from berth's own package, where the bundle's external packages are.
  require('./code-cache.cjs').loadBundle(join(bundles, 'runner.cjs'), argv, (specifier) => import(specifier))
main(argv, loadRunner).then((code) => {
  process.exitCode = code
})
