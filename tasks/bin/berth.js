#!/usr/bin/env node
// The installed bin runs compiled JavaScript: no TypeScript loader at start-up.
import { main } from '../dist/bundle/berth.mjs'

process.exitCode = await main(process.argv.slice(2))
