// Writes docs/json.md from the built-in plugins' declared outputs: `pnpm docs:json`.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { jsonReference } from '../tasks/src/outputs.js'
import { DEFAULT_PIPELINES } from '../tasks/src/pipelines.js'
import { builtinPlugins } from '../tasks/src/plugins.js'

const file = join(import.meta.dirname, '..', 'docs', 'json.md')
writeFileSync(file, jsonReference({ plugins: await builtinPlugins(), pipelines: DEFAULT_PIPELINES }))
console.log(`wrote ${file}`)
