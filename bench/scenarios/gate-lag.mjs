/**
 * Gate lag: a TCP service becomes ready at a known moment while `berth gate` is polling it; the
 * lag is the time from that moment to the gate's passing probe (the service sees the probe's
 * connection). Ready moments are spread evenly over 0.3 s .. 3.3 s after the gate starts polling,
 * so the samples cover the whole back-off schedule rather than one lucky phase of it.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { configJson } from '../lib/fixtures.mjs'
import { freePortBlock } from '../lib/ports.mjs'
import { expectOk, parseJson, run } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave, summarize } from '../lib/stats.mjs'
import { BENCH_DIR, BERTH_BIN, NODE } from '../lib/workspace.mjs'

const FIRST_READY_MS = 300
const READY_SPREAD_MS = 3000
/** The step line berth prints on stderr just before `gate.wait` starts. */
const GATE_STARTS = /registry\.resolve/

export const gateLag = {
  name: 'gate-lag',
  title: 'Gate lag',
  async run(ctx) {
    const { ws } = ctx
    const parent = ws.dir('gate-lag')
    const env = ws.env(ws.dir('gate-lag-home'))
    const project = `${ws.tag}-gl`
    const { origin } = await ws.repository(parent, project, {
      'berth.config.json': configJson({
        project,
        compose: { files: ['compose.yaml'] },
        ports: { BB_GATE_PORT: { base: await freePortBlock() } },
        gate: { timeout: 30, checks: [{ name: 'svc', tcp: '${BB_GATE_PORT}' }] },
      }),
      'compose.yaml': 'services: {}\n',
    })
    const clone = await ws.clone(origin, parent, `${project}-a`)
    const init = parseJson(
      expectOk(await run(NODE, [BERTH_BIN, 'sandbox', 'init', '--json'], { cwd: clone, env }), 'sandbox init'),
    )
    const port = init.ports.BB_GATE_PORT
    if (!port) throw new Error(`sandbox init gave no BB_GATE_PORT: ${JSON.stringify(init.ports)}`)

    const readyDelay = (index) =>
      index < 0 ? 1000 : FIRST_READY_MS + (ctx.runs > 1 ? (READY_SPREAD_MS * index) / (ctx.runs - 1) : 0)

    const measured = await interleave({
      warmup: ctx.warmup,
      runs: ctx.runs,
      variants: [{ key: 'gate', measure: (index) => gateOnce({ clone, env, port, delayMs: readyDelay(index) }) }],
    })
    const samples = measured.gate.extras
    const probeLag = samples.map((s) => s.probeLagMs)
    const exitLag = samples.map((s) => s.exitLagMs)
    const lag = summarize(probeLag)
    const row = pairRow({
      name: 'berth gate: start -> PASS, service ready 0.3-3.3 s after the gate starts',
      berth: { label: 'berth gate (spawn -> exit with PASS)', samples: samples.map((s) => s.ms) },
      baseline: { label: 'spawn -> service ready (the physical limit)', samples: samples.map((s) => s.readyMs) },
    })
    return {
      rows: [row],
      series: [
        { name: 'gate lag: service ready -> passing probe', ...lag },
        { name: 'gate lag: service ready -> berth gate exited 0', ...summarize(exitLag) },
      ],
      samples: samples.map((s) => ({
        readyAfterGateStartMs: round(s.readyAfterGoMs),
        probeLagMs: round(s.probeLagMs),
        exitLagMs: round(s.exitLagMs),
        attempts: s.attempts,
        timeToPassMs: s.timeToPassMs,
      })),
      targets: [
        target({ id: 'gate-p50', text: 'gate lag p50 <= 100 ms', value: lag.median, limit: 100, unit: 'ms' }),
        target({ id: 'gate-max', text: 'gate lag max <= 300 ms', value: lag.max, limit: 300, unit: 'ms' }),
      ],
      notes: [
        'The service is a Node TCP listener (bench/servers/ready-later.mjs) told to start listening a set delay after berth prints its `registry.resolve` step line, i.e. once `gate.wait` is about to poll. "Ready" is its `listening` moment and "PASS" the moment it accepts the gate\'s first connection, both on the monotonic clock every process shares.',
      ],
    }
  },
}

const round = (value) => Math.round(value * 10) / 10

/** One `berth gate --json` against a service that starts listening `delayMs` after the gate starts. */
async function gateOnce({ clone, env, port, delayMs }) {
  const server = spawn(NODE, [join(BENCH_DIR, 'servers/ready-later.mjs'), String(port)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const events = {}
  let buffered = ''
  server.stdout.setEncoding('utf8')
  const started = new Promise((resolve) => {
    server.stdout.on('data', (chunk) => {
      buffered += chunk
      for (const line of buffered.split('\n').slice(0, -1)) {
        const event = JSON.parse(line)
        events[event.event] ??= BigInt(event.t)
        if (event.event === 'started') resolve()
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1)
    })
  })
  const exited = new Promise((resolve) => server.on('close', resolve))
  await started
  let goNs
  const go = () => {
    if (goNs !== undefined) return
    goNs = process.hrtime.bigint()
    server.stdin.end(`${Math.round(delayMs)}\n`)
  }
  const fallback = setTimeout(go, 10_000)
  let seen = ''
  try {
    const result = await run(NODE, [BERTH_BIN, 'gate', '--json', '--timeout', '30'], {
      cwd: clone,
      env,
      onStderr: (text) => {
        seen += text
        if (GATE_STARTS.test(seen)) go()
      },
    })
    expectOk(result, 'berth gate')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))])
    if (events.listening === undefined || events.connection === undefined) {
      throw new Error(`the service saw no connection (events: ${Object.keys(events).join(', ')})`)
    }
    const doc = parseJson(result)
    const check = (doc.gate ?? doc.details?.gate)?.checks?.[0] ?? {}
    const ms = (a, b) => Number(b - a) / 1e6
    return {
      ms: result.ms,
      readyMs: ms(result.startNs, events.listening),
      readyAfterGoMs: ms(goNs, events.listening),
      probeLagMs: ms(events.listening, events.connection),
      exitLagMs: ms(events.listening, result.endNs),
      attempts: check.attempts,
      timeToPassMs: check.timeToPassMs,
    }
  } finally {
    clearTimeout(fallback)
    server.kill()
  }
}
