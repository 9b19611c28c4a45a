/**
 * Up/down overhead, on each compose flavour installed: `berth sandbox up --no-wait` of the demo
 * stack (images already built) beside the raw compose command it wraps (`docker-compose -p ID
 * --env-file .env.sandbox up -d` for v1, `docker compose …` for v2), and `berth sandbox down` beside
 * the raw `down`. Both start and stop the same 9 containers of the same project; berth runs with
 * BERTH_COMPOSE set to the flavour measured.
 */
import { join } from 'node:path'
import { configJson } from '../lib/fixtures.mjs'
import { freePortBlock } from '../lib/ports.mjs'
import { expectOk, parseJson, run, runOk } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave } from '../lib/stats.mjs'
import { BERTH_BIN, DEMO_DIR, NODE, REPO_ROOT } from '../lib/workspace.mjs'

/** Services `up` starts: db, redis, backend, worker-1..4, prometheus, observability (e2e is behind the `test` profile). */
const SERVICES = 9

/** The demo's port layout inside one block of 100 ports (slot N: base + N, workers base + 60 + 10N). */
export function demoConfig(project, base) {
  return {
    project,
    compose: { files: ['compose.yaml'] },
    slots: { pool: [1, 2], max: 3 },
    ports: {
      KTRDR_API_PORT: { base },
      KTRDR_DB_PORT: { base: base + 10 },
      DEMO_REDIS_PORT: { base: base + 20 },
      KTRDR_PROMETHEUS_PORT: { base: base + 30 },
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

/**
 * The raw command of each compose flavour installed here: v1 is `docker-compose` on PATH, v2 the
 * `docker compose` plugin (as a user types it).
 */
async function flavours() {
  const found = []
  const v1 = await run('docker-compose', ['version', '--short'], { timeoutMs: 20_000 }).catch(() => null)
  if (v1?.code === 0 && /^1\./.test(v1.stdout.trim()))
    found.push({ key: 'v1', raw: ['docker-compose'], version: v1.stdout.trim() })
  const v2 = await run('docker', ['compose', 'version', '--short'], { timeoutMs: 20_000 }).catch(() => null)
  if (v2?.code === 0 && v2.stdout.trim())
    found.push({ key: 'v2', raw: ['docker', 'compose'], version: v2.stdout.trim() })
  return found
}

export const upDown = {
  name: 'up-down',
  title: 'Up / down overhead',
  async run(ctx) {
    const { ws } = ctx
    ctx.log('up-down: making sure the demo images exist (examples/demo/images/build.sh)')
    await runOk('bash', [join(DEMO_DIR, 'images/build.sh')], { cwd: REPO_ROOT, timeoutMs: 900_000 })
    const installed = await flavours()
    if (installed.length === 0) throw new Error('neither docker-compose (v1) nor docker compose (v2) answers')
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
    const berth = (args, flavour) =>
      run(NODE, [BERTH_BIN, ...args], { cwd: clone, env: { ...env, BERTH_COMPOSE: flavour } })
    const init = parseJson(expectOk(await berth(['sandbox', 'init', '--json'], installed[0].key), 'sandbox init'))
    const id = init.instance.id
    ws.defer(`sandbox down --volumes ${id}`, async () =>
      expectOk(await berth(['sandbox', 'down', '--volumes'], installed[0].key)),
    )

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
    const rows = []
    const targets = []
    for (const flavour of installed) {
      const [command, ...prefix] = flavour.raw
      const raw = (args) =>
        run(command, [...prefix, '-p', id, '--env-file', '.env.sandbox', ...args], { cwd: clone, env })
      const label = `${flavour.raw.join(' ')} -p ID --env-file .env.sandbox`
      ctx.log(`up-down: compose ${flavour.key} (${flavour.version})`)
      const measured = await interleave({
        warmup: ctx.warmup,
        runs: ctx.runs,
        variants: [
          {
            key: 'berth',
            measure: cycle(
              () => berth(['sandbox', 'up', '--no-wait'], flavour.key),
              () => berth(['sandbox', 'down'], flavour.key),
              `berth sandbox (${flavour.key})`,
            ),
          },
          {
            key: 'raw',
            measure: cycle(
              () => raw(['up', '-d']),
              () => raw(['down']),
              label,
            ),
          },
        ],
      })
      const up = pairRow({
        name: `up --no-wait (demo, ${SERVICES} containers, compose ${flavour.key} ${flavour.version})`,
        berth: {
          label: `BERTH_COMPOSE=${flavour.key} berth sandbox up --no-wait`,
          samples: measured.berth.samples,
          cpu: measured.berth.extras.map((e) => e.cpu),
        },
        baseline: {
          label: `${label} up -d`,
          samples: measured.raw.samples,
          cpu: measured.raw.extras.map((e) => e.cpu),
        },
      })
      const down = pairRow({
        name: `down (demo, ${SERVICES} containers, compose ${flavour.key} ${flavour.version})`,
        berth: {
          label: `BERTH_COMPOSE=${flavour.key} berth sandbox down`,
          samples: measured.berth.extras.map((e) => e.down),
          cpu: measured.berth.extras.map((e) => e.downCpu),
        },
        baseline: {
          label: `${label} down`,
          samples: measured.raw.extras.map((e) => e.down),
          cpu: measured.raw.extras.map((e) => e.downCpu),
        },
      })
      rows.push(up, down)
      targets.push(
        target({
          id: `up-overhead-${flavour.key}`,
          text: `\`sandbox up --no-wait\` overhead <= 150 ms over raw compose ${flavour.key}`,
          value: up.deltaMs,
          limit: 150,
          unit: 'ms',
          detail: `${up.berth.median} ms vs ${up.baseline.median} ms`,
        }),
        target({
          id: `down-overhead-${flavour.key}`,
          text: `\`sandbox down\` overhead <= 150 ms over raw compose ${flavour.key}`,
          value: down.deltaMs,
          limit: 150,
          unit: 'ms',
          detail: `${down.berth.median} ms vs ${down.baseline.median} ms`,
        }),
      )
    }
    return {
      rows,
      targets,
      notes: [
        `Each round starts from a stopped project (containers removed, the volumes kept), runs up, checks that ${SERVICES} containers run, runs down and checks that none is left; berth and raw compose alternate. Flavours measured: ${installed.map((f) => `${f.key} (${f.raw.join(' ')} ${f.version})`).join(', ')}.`,
      ],
    }
  },
}
