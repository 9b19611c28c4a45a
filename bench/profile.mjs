#!/usr/bin/env node
/**
 * Where a berth command spends its time: runs `node --cpu-prof tasks/bin/berth.js ARGS…` and
 * prints the CPU time by package (self time of the sampled functions, grouped by the file's
 * package: zod, zx, undici, plugins/compose, node: internals, …) and how many ES modules of each
 * were loaded. Compiling and linking modules shows up as `node: internals` / `(garbage
 * collector)`; the module counts say whose modules those are.
 *
 *   node bench/profile.mjs [--cwd DIR] [--top N] -- sandbox list --json
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { moduleLogFile } from './lib/module-log.mjs'
import { BERTH_BIN, REPO_ROOT } from './lib/workspace.mjs'

const { values, positionals } = parseArgs({
  options: { cwd: { type: 'string' }, top: { type: 'string' } },
  allowPositionals: true,
})
const dir = mkdtempSync(join(tmpdir(), 'berth-profile-'))
try {
  const started = process.hrtime.bigint()
  const child = spawnSync(
    process.execPath,
    ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100', BERTH_BIN, ...positionals],
    { cwd: values.cwd ?? process.cwd(), stdio: ['ignore', 'ignore', 'inherit'] },
  )
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'))
  if (!file) throw new Error(`no profile written (exit ${child.status})`)
  const profile = JSON.parse(readFileSync(join(dir, file), 'utf8'))
  // A second run with the module-logging hooks: they run on a worker thread and would distort the profile.
  const logged = spawnSync(
    process.execPath,
    ['--import', join(REPO_ROOT, 'bench/lib/module-log.mjs'), BERTH_BIN, ...positionals],
    { cwd: values.cwd ?? process.cwd(), stdio: 'ignore' },
  )
  const modules = loadedModules(logged.pid)
  const byPackage = summarize(profile)
  for (const [name, count] of modules) {
    const entry = byPackage.get(name) ?? { ms: 0, files: new Set() }
    entry.modules = count
    byPackage.set(name, entry)
  }
  const total = [...byPackage.values()].reduce((sum, p) => sum + p.ms, 0)
  console.log(
    `berth ${positionals.join(' ')}: exit ${child.status}, wall ${wallMs.toFixed(0)} ms, sampled ${total.toFixed(0)} ms`,
  )
  const moduleCount = [...modules.values()].reduce((sum, n) => sum + n, 0)
  console.log(`${moduleCount} ES modules loaded (CommonJS files required from them are not counted)`)
  console.log('package'.padEnd(44), 'self ms'.padStart(8), '  share', 'modules'.padStart(8))
  const rows = [...byPackage.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.top ?? 25))
  for (const [name, p] of rows) {
    const share = `${((p.ms / total) * 100).toFixed(1)}%`.padStart(7)
    console.log(name.padEnd(44), p.ms.toFixed(1).padStart(8), share, String(p.modules ?? '').padStart(8))
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}

/** Count of loaded ES modules per package, from the module log of process `pid` (removed). */
function loadedModules(pid) {
  const file = moduleLogFile(pid)
  const counts = new Map()
  if (!existsSync(file)) return counts
  for (const url of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const name = packageOf(url, '')
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  rmSync(file, { force: true })
  return counts
}

/** Self time per package, from the profile's samples and time deltas. */
function summarize(profile) {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]))
  const out = new Map()
  profile.samples.forEach((id, i) => {
    const frame = nodes.get(id).callFrame
    const name = packageOf(frame.url, frame.functionName)
    const entry = out.get(name) ?? { ms: 0, files: new Set() }
    entry.ms += (profile.timeDeltas[i] ?? 0) / 1000
    if (frame.url) entry.files.add(frame.url)
    out.set(name, entry)
  })
  return out
}

function packageOf(url, functionName) {
  if (!url) return `(${functionName || 'vm'})`
  if (url.startsWith('node:')) return 'node: internals'
  const path = url.replace(/^file:\/\//, '')
  const nm = path.lastIndexOf('/node_modules/')
  if (nm >= 0) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/')
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]
  }
  if (path.startsWith(REPO_ROOT)) {
    const rel = path.slice(REPO_ROOT.length + 1).split('/')
    return rel[0] === 'plugins' || rel[0] === 'tasks' ? `${rel[0]}/${rel[0] === 'plugins' ? rel[1] : 'dist'}` : rel[0]
  }
  return path
}
