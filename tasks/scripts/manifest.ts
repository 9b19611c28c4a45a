// Writes src/builtin-manifest.gen.ts from the built-in plugins (see src/builtin-plugins.ts).
import { writeFileSync } from 'node:fs'
import { manifestSource } from '../src/builtin-plugins.js'

writeFileSync(new URL('../src/builtin-manifest.gen.ts', import.meta.url), await manifestSource())
