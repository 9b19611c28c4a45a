/**
 * Up/down overhead: `berth sandbox up --no-wait` of the demo stack (images already built) beside
 * the raw `docker-compose -p ID --env-file .env.sandbox up -d` it wraps, and `berth sandbox down`
 * beside `docker-compose … down`. Both start and stop the same 7 containers of the same project.
 */
import { join } from 'node:path'
import { configJson } from '../lib/fixtures.mjs'
import { freePortBlock } from '../lib/ports.mjs'
import { expectOk, parseJson, run, runOk } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave } from '../lib/stats.mjs'
import { BERTH_BIN, DEMO_DIR, NODE, REPO_ROOT } from '../lib/workspace.mjs'

/** Services `up` starts: db, backend, worker-1..4, observability (e2e is behind the `test` profile). */
const SERVICES = 7

/** The demo's port layout inside one block of 100 ports (slot N: base + N, workers base + 60 + 10N). */
export function demoConfig(project, base) {
  return {
    project,
    compose: { files: ['compose.yaml'] },
    slots: { pool: [1, 2], max: 3 },
    ports: {
      KTRDR_API_PORT: { base },
      KTRDR_DB_PORT: { base: base + 20 },
      KTRDR_JAEGER_UI_PORT: { base: base + 40 },
      KTRDR_WORKER_PORT: { base: base + 60, stride: 10, count: 4 },
    },
    gate: {
      timeout: 60,
      checks: [
        { name: 'db', tcp: '${KTRDR_DB_PORT}', service: 'db' },
        {
          name: 'api',
          http: 'http://127.0.0.1:${KTRDR_API_PORT}/api/v1/health',
          after: ['db'],
          service: 'backend',
        },
        {
          name: 'workers',
          http: 'http://127.0.0.1:${KTRDR_API_PORT}/api/v1/workers',
          expect: { minItems: 4 },
          after: ['api'],
          service: 'worker-1',
        },
      ],
    },
  }
}

export const upDown = {
  name: 'up-down',
  title: 'Up / down overhead',
  async run(ctx) {
    const { ws } = ctx
    ctx.log('up-down: making sure the demo images exist (examples/demo/images/build.sh)')
    await runOk('bash', [join(DEMO_DIR, 'images/build.sh')], { cwd: REPO_ROOT, timeoutMs: 600_000 })
    const parent = ws.dir('up-down')
    const env = ws.env(ws.dir('up-down-home'))
    const project = `${ws.tag}-ud`
    const { origin } = await ws.repository(
      parent,
      project,
      { 'berth.config.json': configJson(demoConfig(project, await freePortBlock())) },
      { '.': DEMO_DIR },
    )
    const clone = await ws.clone(origin, parent, `${project}-a`)
    const berth = (args) => run(NODE, [BERTH_BIN, ...args], { cwd: clone, env })
    const init = parseJson(expectOk(await berth(['sandbox', 'init', '--json']), 'sandbox init'))
    const id = init.instance.id
    ws.defer(`sandbox down --volumes ${id}`, async () => expectOk(await berth(['sandbox', 'down', '--volumes'])))

    const raw = (command) =>
      run('docker-compose', ['-p', id, '--env-file', '.env.sandbox', ...command], { cwd: clone, env })
    const running = async () => {
      const ps = await runOk('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${id}`])
      return ps.stdout.split('\n').filter(Boolean).length
    }
    const cycle = (up, down, what) => async () => {
      const started = expectOk(await up(), `${what} up`)
      const count = await running()
      if (count !== SERVICES) throw new Error(`${what} up left ${count} containers running, expected ${SERVICES}`)
      const stopped = expectOk(await down(), `${what} down`)
      if ((await running()) !== 0) throw new Error(`${what} down left containers running`)
      return { ms: started.ms, cpu: started.cpuMs, down: stopped.ms, downCpu: stopped.cpuMs }
    }
    const measured = await interleave({
      warmup: ctx.warmup,
      runs: ctx.runs,
      variants: [
        {
          key: 'berth',
          measure: cycle(
            () => berth(['sandbox', 'up', '--no-wait']),
            () => berth(['sandbox', 'down']),
            'berth sandbox',
          ),
        },
        {
          key: 'raw',
          measure: cycle(
            () => raw(['up', '-d']),
            () => raw(['down']),
            'docker-compose',
          ),
        },
      ],
    })
    const up = pairRow({
      name: 'up --no-wait (demo, 7 containers)',
      berth: {
        label: 'berth sandbox up --no-wait',
        samples: measured.berth.samples,
        cpu: measured.berth.extras.map((e) => e.cpu),
      },
      baseline: {
        label: 'docker-compose -p ID --env-file .env.sandbox up -d',
        samples: measured.raw.samples,
        cpu: measured.raw.extras.map((e) => e.cpu),
      },
    })
    const down = pairRow({
      name: 'down (demo, 7 containers)',
      berth: {
        label: 'berth sandbox down',
        samples: measured.berth.extras.map((e) => e.down),
        cpu: measured.berth.extras.map((e) => e.downCpu),
      },
      baseline: {
        label: 'docker-compose -p ID --env-file .env.sandbox down',
        samples: measured.raw.extras.map((e) => e.down),
        cpu: measured.raw.extras.map((e) => e.downCpu),
      },
    })
    return {
      rows: [up, down],
      targets: [
        target({
          id: 'up-overhead',
          text: '`sandbox up --no-wait` overhead <= 150 ms over raw compose',
          value: up.deltaMs,
          limit: 150,
          unit: 'ms',
          detail: `${up.berth.median} ms vs ${up.baseline.median} ms`,
        }),
        target({
          id: 'down-overhead',
          text: '`sandbox down` overhead <= 150 ms over raw compose',
          value: down.deltaMs,
          limit: 150,
          unit: 'ms',
          detail: `${down.berth.median} ms vs ${down.baseline.median} ms`,
        }),
      ],
      notes: [
        'Each round starts from a stopped project (containers removed, the db volume kept), runs up, checks that 7 containers run, runs down and checks that none is left; berth and raw compose alternate.',
      ],
    }
  },
}
