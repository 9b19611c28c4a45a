#!/usr/bin/env node
import { readFileSync } from 'node:fs'
/**
 * berth's benchmark suite: berth beside the raw git / docker / docker-compose commands it wraps,
 * measured in the same run on the real engine. See bench/README.md.
 *
 *   node bench/run.mjs                  every scenario, 10 runs each -> bench/RESULTS.md, bench/results.json
 *   node bench/run.mjs --runs 20        more runs
 *   node bench/run.mjs --smoke          1 run each, no warm-up -> bench/out/ (proves the bench still works)
 *   node bench/run.mjs --only gate-lag  one scenario (comma-separated for several) -> bench/out/
 *   node bench/run.mjs --render         rewrite RESULTS.md from results.json (after editing PROFILE.md)
 */
import { cpus, loadavg, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { run } from './lib/proc.mjs'
import { writeReport } from './lib/report.mjs'
import { BENCH_DIR, BERTH_BIN, REPO_ROOT, Workspace } from './lib/workspace.mjs'
import { claims } from './scenarios/claims.mjs'
import { coldStart } from './scenarios/cold-start.mjs'
import { gateLag } from './scenarios/gate-lag.mjs'
import { healthLag } from './scenarios/health-lag.mjs'
import { impl } from './scenarios/impl.mjs'
import { status } from './scenarios/status.mjs'
import { upDown } from './scenarios/up-down.mjs'

/** Cheap and engine-free first, the container-heavy ones last. */
const SCENARIOS = [coldStart, impl, claims, gateLag, healthLag, status, upDown]

const USAGE = `usage: node bench/run.mjs [--runs N] [--smoke] [--only NAME[,NAME]] [--out DIR]
  --runs N     measured rounds per case (default 10; at least 10 for RESULTS.md)
  --smoke      1 round each, no warm-up, written to bench/out/ (CI)
  --only NAME  run only these scenarios (${SCENARIOS.map((s) => s.name).join(', ')}); written to bench/out/
  --out DIR    write results.json and RESULTS.md there instead
  --render     measure nothing: rewrite RESULTS.md from the results.json there (default bench/)
`

function options() {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      smoke: { type: 'boolean' },
      only: { type: 'string' },
      out: { type: 'string' },
      render: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(USAGE)
    process.exit(0)
  }
  const runs = values.smoke ? 1 : Number(values.runs ?? 10)
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs ${values.runs}: want a positive integer`)
  const only = values.only?.split(',').map((s) => s.trim())
  const unknown = only?.filter((name) => !SCENARIOS.some((s) => s.name === name)) ?? []
  if (unknown.length > 0) throw new Error(`unknown scenario ${unknown.join(', ')}\n${USAGE}`)
  const partial = values.smoke || only !== undefined || runs < 10
  if (values.render) return { render: true, out: values.out ?? BENCH_DIR }
  return {
    runs,
    warmup: values.smoke ? 0 : 1,
    smoke: values.smoke === true,
    scenarios: only ? SCENARIOS.filter((s) => only.includes(s.name)) : SCENARIOS,
    out: values.out ?? (partial ? join(BENCH_DIR, 'out') : BENCH_DIR),
    argv: process.argv.slice(2),
  }
}

const round2 = (value) => Math.round(value * 100) / 100

async function firstLine(command, args) {
  try {
    const result = await run(command, args, { timeoutMs: 20_000 })
    return result.code === 0 ? result.stdout.trim().split('\n')[0] : null
  } catch {
    return null
  }
}

/** Refuses to start without a built berth, a Docker engine or docker-compose, saying how to get them. */
async function preflight() {
  const problems = []
  const berth = await firstLine(process.execPath, [BERTH_BIN, '--version'])
  if (!berth) problems.push('`node tasks/bin/berth.js --version` fails: build berth first (`pnpm build`)')
  const engine = await firstLine('docker', ['version', '--format', '{{.Server.Version}}'])
  if (!engine)
    problems.push('the Docker engine does not answer (`docker version`): start it (scripts/ensure-engine.sh)')
  const compose = [
    await firstLine('docker-compose', ['version', '--short']).then((v) => (v ? `v1 ${v}` : null)),
    await firstLine('docker', ['compose', 'version', '--short']).then((v) => (v ? `v2 ${v}` : null)),
  ]
    .filter(Boolean)
    .join(', ')
  if (!compose)
    problems.push('no compose (docker-compose v1 or the docker compose v2 plugin): the up/down baseline runs it')
  if (problems.length > 0) throw new Error(`cannot run the bench:\n  ${problems.join('\n  ')}`)
  return {
    berth,
    node: process.versions.node,
    engine,
    compose,
    git: (await firstLine('git', ['--version']))?.replace(/^git version /, '') ?? '?',
  }
}

const REPORT_FILES = { jsonName: 'results.json', mdName: 'RESULTS.md', profileFile: join(BENCH_DIR, 'PROFILE.md') }

async function main() {
  const opts = options()
  if (opts.render) {
    writeReport(JSON.parse(readFileSync(join(opts.out, REPORT_FILES.jsonName), 'utf8')), opts.out, REPORT_FILES)
    process.stderr.write(`[bench] rewrote ${join(opts.out, REPORT_FILES.mdName)}\n`)
    return
  }
  const versions = await preflight()
  const commitLine = await firstLine('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'])
  const dirty = await run('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--', 'tasks', 'plugins'])
  const ws = new Workspace()
  const log = (message) => process.stderr.write(`[bench] ${message}\n`)
  let cleaned = false
  const cleanup = async () => {
    if (cleaned) return
    cleaned = true
    log('cleaning up')
    for (const problem of await ws.cleanup(log)) log(`cleanup: ${problem}`)
  }
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      log(`${signal}: stopping`)
      cleanup().finally(() => process.exit(130))
    })
  }

  const startedAt = new Date().toISOString()
  const loadStart = loadavg()[0].toFixed(2)
  const results = []
  try {
    for (const scenario of opts.scenarios) {
      log(`${scenario.name}: ${opts.runs} run(s) after ${opts.warmup} warm-up`)
      const start = process.hrtime.bigint()
      const loadBefore = loadavg()[0]
      const load = () => ({ start: round2(loadBefore), end: round2(loadavg()[0]) })
      try {
        const result = await scenario.run({ ws, runs: opts.runs, warmup: opts.warmup, smoke: opts.smoke, log })
        results.push({ name: scenario.name, title: scenario.title, load: load(), ...result })
        for (const row of result.rows) {
          log(`  ${row.name}: berth ${row.berth.median} ms, baseline ${row.baseline.median} ms, ratio ${row.ratio}x`)
        }
        for (const t of result.targets)
          log(`  target ${t.id}: ${t.value} (limit ${t.limit}) ${t.met ? 'met' : 'MISSED'}`)
      } catch (error) {
        log(`${scenario.name} FAILED: ${error.stack ?? error}`)
        results.push({
          name: scenario.name,
          title: scenario.title,
          load: load(),
          error: String(error.message ?? error),
        })
      }
      log(`${scenario.name}: done in ${(Number(process.hrtime.bigint() - start) / 1e9).toFixed(1)} s`)
    }
  } finally {
    await cleanup()
  }

  const report = {
    meta: {
      command: `node bench/run.mjs${opts.argv.length ? ` ${opts.argv.join(' ')}` : ''}`,
      startedAt,
      finishedAt: new Date().toISOString(),
      runs: opts.runs,
      warmup: opts.warmup,
      smoke: opts.smoke,
      commit: `${commitLine ?? '?'}${dirty.stdout.trim() ? ' (tasks/ or plugins/ modified)' : ''}`,
      versions,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? '?',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
      },
      load: { start: loadStart, end: loadavg()[0].toFixed(2) },
    },
    scenarios: results,
  }
  writeReport(report, opts.out, REPORT_FILES)
  log(`wrote ${join(opts.out, 'RESULTS.md')} and results.json`)
  const failed = results.filter((r) => r.error)
  if (failed.length > 0) {
    log(`${failed.length} scenario(s) failed: ${failed.map((r) => r.name).join(', ')}`)
    process.exitCode = 1
  }
}

main().catch((error) => {
  process.stderr.write(`[bench] ${error.message}\n`)
  process.exitCode = 1
})
