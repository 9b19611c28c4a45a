// Creates a spec worktree next to the checkout given as argument (default: the cwd), shows its
// state, then removes it again. Run: npx tsx examples/demo.ts /path/to/a/checkout
import { dirname } from 'node:path'
import { createWorktree, detectCheckout, planWorktree, removeWorktree, workState } from '../src/index.js'

const log = { info: console.log, warn: console.warn, debug: () => {} }
const repo = await detectCheckout(process.argv[2] ?? process.cwd())
const parent = dirname(repo.root)
const plan = planWorktree({ name: `demo-${process.pid}`, kind: 'spec', project: 'demo', parent })
await createWorktree({ repoRoot: repo.root, path: plan.path, branch: plan.branch, remote: 'origin', fetch: true, log })
console.log(plan.path, await workState(plan.path))
await removeWorktree({ path: plan.path, repoRoot: repo.root, parent, createdByBerth: true, force: false })
console.log(`removed ${plan.path}; the branch stays: git -C ${repo.root} branch -D ${plan.branch}`)
