#!/usr/bin/env node
// The installed bin runs compiled JavaScript: no TypeScript loader at start-up.
import { main } from '../dist/cli.js'

process.exitCode = await main(process.argv.slice(2))
