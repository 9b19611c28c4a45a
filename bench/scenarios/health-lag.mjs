/**
 * Gate lag on a healthcheck: `berth gate` waits on a `healthy` check while a container of the
 * service starts and its own healthcheck turns healthy a set time later. The lag is from the
 * engine's `health_status: healthy` event (its own timestamp) to the moment berth reports the
 * check passed (its `✓ svc healthy` line on stderr), both on the machine's wall clock. Ready
 * moments are spread over 0.3 s .. 2.3 s after the gate starts, so the samples cover whatever the
 * gate's waiting does over time.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { engine, engineOk, subscribe } from '../lib/engine.mjs'
import { configJson } from '../lib/fixtures.mjs'
import { freePortBlock } from '../lib/ports.mjs'
import { expectOk, run } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave, summarize } from '../lib/stats.mjs'
import { BERTH_BIN, NODE } from '../lib/workspace.mjs'

const FIRST_READY_MS = 300
const READY_SPREAD_MS = 2000
const IMAGE = 'berth-demo-base:local'
/** The step line berth prints on stderr just before `gate.wait` starts. */
const GATE_STARTS = /registry\.resolve/
/** The line berth prints when the check passes. */
const PASSED = /✓ svc healthy/

/** Wall-clock milliseconds with sub-millisecond resolution. */
const wallMs = () => performance.timeOrigin + performance.now()

export const healthLag = {
  name: 'health-lag',
  title: 'Gate lag on a healthcheck',
  async run(ctx) {
    const { ws } = ctx
    const parent = ws.dir('health-lag')
    const env = ws.env(ws.dir('health-lag-home'))
    const project = `${ws.tag}-hl`
    const { origin } = await ws.repository(parent, project, {
      'berth.config.json': configJson({
        project,
        compose: { files: ['compose.yaml'] },
        ports: { BB_HEALTH_PORT: { base: await freePortBlock() } },
        gate: { timeout: 60, checks: [{ name: 'svc', healthy: 'svc' }] },
      }),
      'compose.yaml': 'services: {}\n',
    })
    const clone = await ws.clone(origin, parent, `${project}-a`)
    expectOk(await run(NODE, [BERTH_BIN, 'sandbox', 'init', '--json'], { cwd: clone, env }), 'sandbox init')
    const composeProject = /^COMPOSE_PROJECT_NAME=(.+)$/m.exec(readFileSync(join(clone, '.env.sandbox'), 'utf8'))?.[1]
    if (!composeProject) throw new Error('sandbox init wrote no COMPOSE_PROJECT_NAME')

    const readyDelay = (index) =>
      index < 0 ? 1000 : FIRST_READY_MS + (ctx.runs > 1 ? (READY_SPREAD_MS * index) / (ctx.runs - 1) : 0)
    const measured = await interleave({
      warmup: ctx.warmup,
      runs: ctx.runs,
      variants: [
        {
          key: 'gate',
          measure: (index) => healthOnce({ clone, env, composeProject, delayMs: readyDelay(index), index }),
        },
      ],
    })
    const samples = measured.gate.extras
    const lag = summarize(samples.map((s) => s.reportLagMs))
    const row = pairRow({
      name: 'berth gate (healthy check): start -> PASS, healthcheck turns healthy 0.3-2.3 s after the gate starts',
      berth: { label: 'berth gate (spawn -> exit with PASS)', samples: samples.map((s) => s.ms) },
      baseline: { label: 'spawn -> engine health_status: healthy', samples: samples.map((s) => s.eventMs) },
    })
    return {
      rows: [row],
      series: [
        { name: 'health lag: engine health_status event -> berth reports the check passed', ...lag },
        {
          name: 'health lag: engine health_status event -> berth gate exited 0',
          ...summarize(samples.map((s) => s.exitLagMs)),
        },
      ],
      samples: samples.map((s) => ({
        readyAfterGateStartMs: Math.round(s.delayMs),
        reportLagMs: round(s.reportLagMs),
        exitLagMs: round(s.exitLagMs),
      })),
      targets: [
        target({
          id: 'health-p50',
          text: 'gate lag on a healthcheck p50 <= 50 ms',
          value: lag.median,
          limit: 50,
          unit: 'ms',
        }),
        target({
          id: 'health-max',
          text: 'gate lag on a healthcheck max <= 150 ms',
          value: lag.max,
          limit: 150,
          unit: 'ms',
        }),
      ],
      notes: [
        `Each sample starts a fresh container of service svc (${IMAGE}, compose labels of the instance, created through the engine API once berth prints its \`registry.resolve\` step line) whose exec-form healthcheck passes once the container has written /tmp/ready, a set delay after it starts; the interval is 250 ms. The engine's event time is its own timeNano; berth's report is when the bench reads berth's \`✓ svc healthy\` line.`,
      ],
    }
  },
}

const round = (value) => Math.round(value * 10) / 10

async function healthOnce({ clone, env, composeProject, delayMs, index }) {
  const events = []
  const unsubscribe = await subscribe(
    {
      type: ['container'],
      event: ['health_status'],
      label: [`com.docker.compose.project=${composeProject}`],
    },
    (event) => events.push(event),
  )
  let id
  let starting
  let reportWall
  let seen = ''
  const go = () => {
    if (starting) return
    const script = `setTimeout(() => require('fs').writeFileSync('/tmp/ready', ''), ${Math.round(delayMs)}); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1 << 30)`
    starting = (async () => {
      const created = await engineOk('POST', `/containers/create?name=${composeProject}-svc-${index + 2}`, {
        Image: IMAGE,
        Entrypoint: ['/usr/bin/node', '-e', script],
        Labels: {
          'com.docker.compose.project': composeProject,
          'com.docker.compose.service': 'svc',
          'com.docker.compose.oneoff': 'False',
        },
        Healthcheck: {
          Test: ['CMD', '/usr/bin/node', '-e', "require('fs').accessSync('/tmp/ready')"],
          Interval: 250_000_000,
          Timeout: 5_000_000_000,
          Retries: 3,
          StartPeriod: 60_000_000_000,
        },
        HostConfig: { NetworkMode: 'none' },
      })
      id = created.Id
      await engineOk('POST', `/containers/${id}/start`)
    })()
    starting.catch(() => undefined)
  }
  try {
    const result = await run(NODE, [BERTH_BIN, 'gate', '--timeout', '60'], {
      cwd: clone,
      env,
      onStderr: (text) => {
        seen += text
        if (GATE_STARTS.test(seen)) go()
        if (reportWall === undefined && PASSED.test(seen)) reportWall = wallMs()
      },
    })
    const exitWall = wallMs()
    expectOk(result, 'berth gate')
    await starting
    if (reportWall === undefined) throw new Error(`berth gate printed no passing svc line:\n${result.stderr}`)
    const healthy = events.find((event) => event.Actor?.ID === id && event.Action === 'health_status: healthy')
    if (!healthy) throw new Error('the engine reported no health_status: healthy event for the container')
    const eventWall = healthy.timeNano / 1e6
    const spawnWall = exitWall - result.ms
    return {
      ms: result.ms,
      eventMs: eventWall - spawnWall,
      delayMs,
      reportLagMs: reportWall - eventWall,
      exitLagMs: exitWall - eventWall,
    }
  } finally {
    unsubscribe()
    if (id) await engine('DELETE', `/containers/${id}?force=1`)
  }
}
