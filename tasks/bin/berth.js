#!/usr/bin/env node
'use strict'
// The installed bin runs one compiled bundle (dist/bundle/berth.cjs: no TypeScript loader, no
// module resolution at start-up) through V8's code cache (code-cache.cjs).
const { join } = require('node:path')
const { loadBundle } = require('./code-cache.cjs')

const argv = process.argv.slice(2)
// import() from here resolves from berth's own package, where the bundle's external packages are.
const { main } = loadBundle(
  join(__dirname, '..', 'dist', 'bundle', 'berth.cjs'),
  argv,
  (specifier) => import(specifier),
)
main(argv).then((code) => {
  process.exitCode = code
})
