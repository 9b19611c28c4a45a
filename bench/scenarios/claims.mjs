/**
 * Claims under contention: 20 `berth sandbox init` started at once in 20 clones of one project
 * whose pool has exactly 20 slots. Measures the wall time from the first spawn to the last exit,
 * and checks that every claim succeeded with a different slot. The baseline is the floor for any
 * 20 Node processes on this machine: 20 `node -e 0` started at once.
 */
import { existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { configJson, pad, range } from '../lib/fixtures.mjs'
import { freePortBlock } from '../lib/ports.mjs'
import { childrenCpuMs, expectOk, mapLimit, parseJson, run } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave } from '../lib/stats.mjs'
import { BERTH_BIN, NODE } from '../lib/workspace.mjs'

const CLAIMANTS = 20

export const claims = {
  name: 'claims',
  title: 'Claims under contention',
  async run(ctx) {
    const { ws } = ctx
    const parent = ws.dir('claims')
    const project = `${ws.tag}-cl`
    const { origin } = await ws.repository(parent, project, {
      'berth.config.json': configJson({
        project,
        compose: { files: ['compose.yaml'] },
        slots: { pool: range(1, CLAIMANTS), max: CLAIMANTS },
        ports: { BB_CLAIM_PORT: { base: await freePortBlock() } },
        gate: { checks: [] },
      }),
      'compose.yaml': 'services: {}\n',
    })
    const clones = await mapLimit(range(1, CLAIMANTS), 4, (n) => ws.clone(origin, parent, `${project}-${pad(n)}`))
    let homes = 0
    const problems = []

    /** Every clone unregistered: a fresh BERTH_HOME and no .env.sandbox left from the last round. */
    const reset = () => {
      for (const clone of clones) {
        const envFile = join(clone, '.env.sandbox')
        if (existsSync(envFile)) rmSync(envFile)
      }
      return ws.dir(`claims-home-${homes++}`)
    }

    const contended = async () => {
      const env = ws.env(reset())
      const cpuBefore = childrenCpuMs()
      const startNs = process.hrtime.bigint()
      const results = await Promise.all(
        clones.map((cwd) => run(NODE, [BERTH_BIN, 'sandbox', 'init', '--json'], { cwd, env })),
      )
      const ms = Number(process.hrtime.bigint() - startNs) / 1e6
      const cpu = childrenCpuMs() - cpuBefore
      const docs = results.map((r) => parseJson(r))
      const failed = docs.filter((doc) => !doc.ok)
      const slots = docs.filter((doc) => doc.ok).map((doc) => doc.instance.slot)
      const distinct = new Set(slots).size
      if (distinct !== slots.length) problems.push(`duplicate slots in one round: ${slots.join(',')}`)
      if (failed.length > 0) {
        const codes = failed.map((doc) => doc.error?.code ?? '?')
        problems.push(
          `${failed.length} of ${CLAIMANTS} claims failed in one round (${[...new Set(codes)].join(', ')}) after ${Math.round(ms)} ms: ${failed[0].error?.message ?? ''}`,
        )
      }
      return { ms, cpu, distinct, failed: failed.length }
    }
    const single = async () => {
      const env = ws.env(reset())
      const result = expectOk(await run(NODE, [BERTH_BIN, 'sandbox', 'init', '--json'], { cwd: clones[0], env }))
      return { ms: result.ms, cpu: result.cpuMs }
    }
    const nodeFloor = async () => {
      const cpuBefore = childrenCpuMs()
      const startNs = process.hrtime.bigint()
      const results = await Promise.all(clones.map((cwd) => run(NODE, ['-e', '0'], { cwd })))
      for (const r of results) expectOk(r)
      return { ms: Number(process.hrtime.bigint() - startNs) / 1e6, cpu: childrenCpuMs() - cpuBefore }
    }
    const nodeOne = async () => {
      const result = expectOk(await run(NODE, ['-e', '0'], { cwd: clones[0] }))
      return { ms: result.ms, cpu: result.cpuMs }
    }

    const measured = await interleave({
      warmup: ctx.warmup,
      runs: ctx.runs,
      variants: [
        { key: 'contended', measure: contended },
        { key: 'floor', measure: nodeFloor },
        { key: 'single', measure: single },
        { key: 'one', measure: nodeOne },
      ],
    })
    const rounds = measured.contended.extras
    const series = (key, label) => ({
      label,
      samples: measured[key].samples,
      cpu: measured[key].extras.map((e) => e.cpu),
    })
    const allDistinct = rounds.every((r) => r.distinct === CLAIMANTS && r.failed === 0)
    const contendedRow = pairRow({
      name: `${CLAIMANTS} concurrent sandbox init, ${CLAIMANTS}-slot pool (total wall time)`,
      berth: series('contended', `${CLAIMANTS} x berth sandbox init at once`),
      baseline: series('floor', `${CLAIMANTS} x node -e 0 at once`),
      note: allDistinct
        ? 'every claim succeeded, all slots distinct in every round'
        : `${rounds.reduce((n, r) => n + r.failed, 0)} failed claims over ${rounds.length} rounds`,
    })
    const singleRow = pairRow({
      name: 'one sandbox init, no contention',
      berth: series('single', 'berth sandbox init'),
      baseline: series('one', 'node -e 0'),
    })
    return {
      rows: [contendedRow, singleRow],
      targets: [
        target({
          id: 'claims-distinct',
          text: `${CLAIMANTS} concurrent claims all get distinct slots (rounds with a duplicate or a failure)`,
          value: rounds.filter((r) => r.distinct !== CLAIMANTS || r.failed > 0).length,
          limit: 0,
          unit: 'count',
          detail: `${rounds.length} rounds x ${CLAIMANTS} claims`,
        }),
        target({
          id: 'claims-total',
          text: `${CLAIMANTS} concurrent claims total <= 3 s`,
          value: contendedRow.berth.median,
          limit: 3000,
          unit: 'ms',
        }),
      ],
      notes: [
        `Each round starts from a fresh BERTH_HOME and clones without .env.sandbox, so all ${CLAIMANTS} claims compete for the same empty pool.`,
        ...problems,
      ],
    }
  },
}
