#!/usr/bin/env node
// Fails when a package's source has an import cycle (type-only imports count too: a cycle of
// types is still two files that cannot be read apart). Relative imports within each package.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(dirname(new URL(import.meta.url).pathname), '..')
const sourceDirs = [
  'tasks/src',
  ...['plugins', 'lib', 'examples/plugins'].flatMap((group) => {
    try {
      return readdirSync(join(root, group)).map((name) => join(group, name, 'src'))
    } catch {
      return []
    }
  }),
].filter((dir) => {
  try {
    return statSync(join(root, dir)).isDirectory()
  } catch {
    return false
  }
})

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return files(path)
    return /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

const IMPORT = /(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g
const graph = new Map()
for (const dir of sourceDirs) {
  for (const file of files(join(root, dir))) {
    const text = readFileSync(file, 'utf8')
    const targets = [...text.matchAll(IMPORT)].map((m) =>
      resolve(dirname(file), (m[1] ?? m[2]).replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts')),
    )
    graph.set(file, targets)
  }
}

const cycles = []
const state = new Map()
const stack = []
function visit(file) {
  state.set(file, 'open')
  stack.push(file)
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue
    if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next])
    else if (!state.has(next)) visit(next)
  }
  stack.pop()
  state.set(file, 'done')
}
for (const file of graph.keys()) if (!state.has(file)) visit(file)

if (cycles.length > 0) {
  for (const cycle of cycles) console.error(`import cycle: ${cycle.map((f) => relative(root, f)).join(' -> ')}`)
  process.exit(1)
}
console.log(`no import cycles in ${graph.size} files`)
