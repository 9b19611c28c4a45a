#!/usr/bin/env node
'use strict'
// The installed bin runs compiled bundles (no TypeScript loader, no module resolution at
// start-up): dist/bundle/cli.cjs answers --help and --version; a command runs through the runner's
// bundle (dist/bundle/runner.cjs, the same entry and the runner), through V8's code cache
// (code-cache.cjs).
const { join } = require('node:path')

const argv = process.argv.slice(2)
const bundles = join(__dirname, '..', 'dist', 'bundle')
const loadRunner = async () =>
  // import() from here resolves from berth's own package, where the bundle's external packages are.
  require('./code-cache.cjs').loadBundle(join(bundles, 'runner.cjs'), argv, (specifier) => import(specifier))
// What the small bundle answers alone; anything else names a command, which the runner's bundle
// (holding the same entry) runs without the small one being loaded first.
const ANSWERED_ALONE = new Set(['--help', '-h', 'help', '--version', '-v', 'version', '__complete'])
const started =
  argv.length === 0 || ANSWERED_ALONE.has(argv[0])
    ? require(join(bundles, 'cli.cjs')).main(argv, loadRunner)
    : loadRunner().then((runner) => runner.main(argv, async () => runner))
started.then((code) => {
  process.exitCode = code
})
