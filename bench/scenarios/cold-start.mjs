/**
 * Cold start: a berth process that does nothing but answer `--version` / `--help`, beside a
 * Node process that does nothing at all (`node -e 0`). The difference is what berth loads
 * before it can say anything.
 */

import { expectOk, run } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave } from '../lib/stats.mjs'
import { BERTH_BIN, NODE } from '../lib/workspace.mjs'

export const coldStart = {
  name: 'cold-start',
  title: 'Cold start',
  async run(ctx) {
    const cwd = ctx.ws.dir('cold-start')
    const env = ctx.ws.env(ctx.ws.dir('cold-start-home'))
    const timed = (args) => async () => {
      const result = expectOk(await run(NODE, args, { cwd, env }))
      return { ms: result.ms, cpu: result.cpuMs }
    }
    const measured = await interleave({
      warmup: ctx.warmup,
      runs: ctx.runs,
      variants: [
        { key: 'node', measure: timed(['-e', '0']) },
        { key: 'version', measure: timed([BERTH_BIN, '--version']) },
        { key: 'help', measure: timed([BERTH_BIN, '--help']) },
      ],
    })
    const series = (key, label) => ({
      label,
      samples: measured[key].samples,
      cpu: measured[key].extras.map((e) => e.cpu),
    })
    const node = series('node', 'node -e 0')
    const version = pairRow({
      name: 'berth --version',
      berth: series('version', 'berth --version'),
      baseline: node,
    })
    const help = pairRow({
      name: 'berth --help',
      berth: series('help', 'berth --help'),
      baseline: node,
    })
    return {
      rows: [version, help],
      targets: [
        target({
          id: 'version',
          text: '`berth --version` <= 2.0x `node -e 0`',
          value: version.ratio,
          limit: 2,
          unit: 'x',
        }),
        target({ id: 'help', text: '`berth --help` <= 1.5x `node -e 0`', value: help.ratio, limit: 1.5, unit: 'x' }),
      ],
      notes: [],
    }
  },
}
