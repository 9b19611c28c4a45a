/**
 * impl end to end: `berth impl <feature> --no-up` (worktree, branch, slot claim, .env.sandbox)
 * beside the raw `git worktree add -b … origin/main` plus writing one file. The repository is a
 * real one: berth's own tracked files at HEAD, so the checkout both sides pay is of a realistic
 * size. Each round uses a new feature name; the worktrees are removed between rounds, outside the
 * timing.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { configJson } from '../lib/fixtures.mjs'
import { freePortBlock } from '../lib/ports.mjs'
import { expectOk, run, runOk } from '../lib/proc.mjs'
import { pairRow, target } from '../lib/result.mjs'
import { interleave } from '../lib/stats.mjs'
import { BERTH_BIN, GIT_ENV, NODE, REPO_ROOT } from '../lib/workspace.mjs'

export const impl = {
  name: 'impl',
  title: 'impl end to end',
  async run(ctx) {
    const { ws } = ctx
    const parent = ws.dir('impl')
    const env = ws.env(ws.dir('impl-home'))
    const project = `${ws.tag}-im`
    const portBase = await freePortBlock()
    const tree = ws.dir('impl-tree')
    const archive = join(ws.root, 'impl-tree.tar')
    await runOk('git', ['-C', REPO_ROOT, 'archive', '--format=tar', '-o', archive, 'HEAD'])
    await runOk('tar', ['-xf', archive, '-C', tree])
    const { main } = await ws.repository(
      parent,
      project,
      {
        'berth.config.json': configJson({
          project,
          compose: { files: ['compose.yaml'] },
          ports: { BB_IMPL_PORT: { base: portBase } },
          gate: { checks: [] },
          // Agents starting features one after another: a fetch stays fresh for 5 minutes (issue
          // 16: no fetch when the start point is known fresh). The warm-up round fetches.
          worktree: { fetchMaxAge: 300 },
        }),
        'compose.yaml': 'services: {}\n',
      },
      { '.': tree },
    )
    const files = (await ws.git(main, 'ls-files')).stdout.split('\n').filter(Boolean).length
    const berth = (args) => run(NODE, [BERTH_BIN, ...args], { cwd: main, env })
    const gitEnv = { ...process.env, ...GIT_ENV }
    let round = 0

    const viaBerth = async () => {
      const feature = `f${round++}`
      const made = expectOk(await berth(['impl', feature, '--no-up']), `berth impl ${feature}`)
      expectOk(await berth(['done', feature, '--force']), `berth done ${feature}`)
      return { ms: made.ms, cpu: made.cpuMs }
    }
    const viaGit = async () => {
      const feature = `r${round++}`
      const path = join(parent, `${project}-raw-${feature}`)
      const startNs = process.hrtime.bigint()
      const added = expectOk(
        await run('git', ['worktree', 'add', '-q', '-b', `raw/${feature}`, path, 'origin/main'], {
          cwd: main,
          env: gitEnv,
        }),
      )
      writeFileSync(
        join(path, '.env.sandbox'),
        `INSTANCE_ID=${project}-raw-${feature}\nSLOT_NUMBER=1\nBB_IMPL_PORT=${portBase + 1}\n`,
      )
      const ms = Number(process.hrtime.bigint() - startNs) / 1e6
      expectOk(await run('git', ['worktree', 'remove', '--force', path], { cwd: main, env: gitEnv }))
      return { ms, cpu: added.cpuMs }
    }
    const measured = await interleave({
      warmup: ctx.warmup,
      runs: ctx.runs,
      variants: [
        { key: 'berth', measure: viaBerth },
        { key: 'git', measure: viaGit },
      ],
    })
    const row = pairRow({
      name: `impl --no-up (worktree of ${files} files + branch + slot + .env.sandbox)`,
      berth: {
        label: 'berth impl F --no-up',
        samples: measured.berth.samples,
        cpu: measured.berth.extras.map((e) => e.cpu),
      },
      baseline: {
        label: 'git worktree add -b B PATH origin/main + write .env.sandbox',
        samples: measured.git.samples,
        cpu: measured.git.extras.map((e) => e.cpu),
      },
    })
    return {
      rows: [row],
      targets: [
        target({
          id: 'impl',
          text: '`impl --no-up` <= raw `git worktree add -b` + write + 200 ms',
          value: row.deltaMs,
          limit: 200,
          unit: 'ms',
          detail: `${row.berth.median} ms vs ${row.baseline.median} ms`,
        }),
      ],
      notes: [
        `The repository is berth's own tree at HEAD (${files} tracked files), pushed to a local bare origin.`,
        "`berth impl` also resolves origin's default branch, checks the branch and path are free and claims a slot under the registry lock; the raw baseline does none of that. The config sets `worktree.fetchMaxAge: 300`: the warm-up round fetches origin, the measured rounds find that fetch fresh (as agents starting features one after another would).",
      ],
    }
  },
}
