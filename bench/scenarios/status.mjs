/**
 * Status loop: `berth sandbox list --json` with 0, 10 and 50 registered instances (10 of them
 * running a one-service stack), beside the one `docker ps` that lists every compose container.
 * Shows how the cost of a listing grows with the number of instances. With 0 and 50 instances the
 * read-only commands agents call in loops (`url`, `sandbox list --json`, `sandbox slots`) are also
 * measured beside `node -e 0` in the same rounds (issue 16: each at most 1.5x).
 */
import { configJson, LIGHT_COMPOSE, pad, range } from '../lib/fixtures.mjs'
import { freePortBlock } from '../lib/ports.mjs'
import { expectOk, mapLimit, parseJson, run } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave } from '../lib/stats.mjs'
import { BERTH_BIN, NODE } from '../lib/workspace.mjs'

const RUNNING = 10
const LEVELS = [0, 10, 50]
/** The levels where the read-only commands are measured beside `node -e 0`. */
const READ_ONLY_LEVELS = [0, 50]
const READ_ONLY_LIMIT = 1.5

const DOCKER_PS = ['ps', '--filter', 'label=com.docker.compose.project', '--format', '{{json .}}']

export const status = {
  name: 'status',
  title: 'Status loop',
  async run(ctx) {
    const { ws } = ctx
    const parent = ws.dir('status')
    const home = ws.dir('status-home')
    const env = ws.env(home)
    const project = `${ws.tag}-st`
    const max = LEVELS[LEVELS.length - 1]
    const { origin, main } = await ws.repository(parent, project, {
      'berth.config.json': configJson({
        project,
        compose: { files: ['compose.yaml'] },
        slots: { pool: range(1, max), max },
        ports: { BB_STATUS_PORT: { base: await freePortBlock() } },
        gate: { checks: [] },
      }),
      'compose.yaml': LIGHT_COMPOSE,
    })
    const berth = (args, cwd) => run(NODE, [BERTH_BIN, ...args], { cwd, env })
    const clones = []
    const rows = []
    const readOnlyRows = []
    let started = 0
    for (const level of LEVELS) {
      ctx.log(`status: registering instances ${clones.length + 1}..${level}`)
      const fresh = range(clones.length + 1, level)
      const added = await mapLimit(fresh, 2, async (n) => {
        const path = await ws.clone(origin, parent, `${project}-${pad(n)}`)
        expectOk(await berth(['sandbox', 'init', '--json'], path), `sandbox init in ${path}`)
        return path
      })
      clones.push(...added)
      const toStart = clones.slice(started, RUNNING)
      if (toStart.length > 0) {
        ctx.log(`status: starting ${toStart.length} one-service stacks`)
        for (const path of toStart) {
          ws.defer(`down ${path}`, async () => expectOk(await berth(['sandbox', 'down', '--volumes'], path)))
          expectOk(await berth(['sandbox', 'up', '--no-wait'], path), `sandbox up in ${path}`)
        }
        started += toStart.length
      }
      const running = Math.min(level, RUNNING)
      const timed = (command, args) => async () => {
        const result = expectOk(await run(command, args, { cwd: main, env }))
        return { ms: result.ms, cpu: result.cpuMs }
      }
      const readOnly = READ_ONLY_LEVELS.includes(level)
        ? [
            { key: 'node', measure: timed(NODE, ['-e', '0']) },
            { key: 'url', measure: timed(NODE, [BERTH_BIN, 'url']) },
            { key: 'slots', measure: timed(NODE, [BERTH_BIN, 'sandbox', 'slots']) },
          ]
        : []
      const measured = await interleave({
        warmup: ctx.warmup,
        runs: ctx.runs,
        variants: [
          ...readOnly,
          {
            key: 'berth',
            async measure() {
              const result = expectOk(await berth(['sandbox', 'list', '--json'], main))
              const doc = parseJson(result)
              const instances = doc.instances ?? []
              const up = instances.filter((i) => (i.running ?? 0) > 0).length
              if (instances.length !== level || up !== running) {
                throw new Error(
                  `sandbox list saw ${instances.length} instances (${up} running), expected ${level} (${running})`,
                )
              }
              return { ms: result.ms, cpu: result.cpuMs }
            },
          },
          {
            key: 'docker',
            async measure() {
              const result = expectOk(await run('docker', DOCKER_PS))
              return { ms: result.ms, cpu: result.cpuMs }
            },
          },
        ],
      })
      if (readOnly.length > 0) {
        const series = (key, label) => ({
          label,
          samples: measured[key].samples,
          cpu: measured[key].extras.map((e) => e.cpu),
        })
        const node = series('node', 'node -e 0')
        for (const [key, label] of [
          ['url', 'berth url'],
          ['berth', 'berth sandbox list --json'],
          ['slots', 'berth sandbox slots'],
        ]) {
          readOnlyRows.push({
            level,
            key,
            row: pairRow({
              name: `${label} beside node -e 0, ${level} instances (${running} running)`,
              berth: series(key, label),
              baseline: node,
            }),
          })
        }
      }
      rows.push(
        pairRow({
          name: `sandbox list --json, ${level} instances (${running} running)`,
          berth: {
            label: 'berth sandbox list --json',
            samples: measured.berth.samples,
            cpu: measured.berth.extras.map((e) => e.cpu),
          },
          baseline: {
            label: "docker ps --filter label=com.docker.compose.project --format '{{json .}}'",
            samples: measured.docker.samples,
            cpu: measured.docker.extras.map((e) => e.cpu),
          },
        }),
      )
    }
    const [zero, , fifty] = rows
    const growth = fifty.berth.median / zero.berth.median
    return {
      rows: [...rows, ...readOnlyRows.map((r) => r.row)],
      targets: [
        ...readOnlyRows.map((r) =>
          target({
            id: `read-only-${r.key === 'berth' ? 'list' : r.key}-${r.level}`,
            text: `\`${r.row.berth.label}\` (${r.level} instances) <= ${READ_ONLY_LIMIT}x \`node -e 0\``,
            value: r.row.ratio,
            limit: READ_ONLY_LIMIT,
            unit: 'x',
            detail: `${r.row.berth.median} ms vs ${r.row.baseline.median} ms`,
          }),
        ),
        target({
          id: 'list-growth',
          text: '`sandbox list --json` with 50 instances <= 1.5x its 0-instance time',
          value: Math.round(growth * 100) / 100,
          limit: 1.5,
          unit: 'x',
          detail: `${fifty.berth.median} ms vs ${zero.berth.median} ms`,
        }),
      ],
      notes: [
        `The ${RUNNING} running instances run a one-service stack (an idle Node process on berth-demo-base:local), not the 7-container demo, to keep 2 cores free for the measurement; 10 and 50 both have the same ${RUNNING} running, so the 10 -> 50 step measures registered instances alone.`,
      ],
    }
  },
}
