/**
 * Parity with the original tool's workflow (issue 17), end to end with the real CLI, real git
 * (a bare origin) and the real Docker engine: a sandbox on any branch, `--all` clean-ups, slot
 * profiles on the demo stack, and host services for local-prod.
 *
 * Every repository gets a project name of its own (`prt<run>…`), its own BERTH_HOME and port
 * block; `after` removes, through the engine API, anything still labelled with a compose project
 * this file made — never any other project.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import {
  buildDemoImages,
  demoConfig,
  demoRepo,
  getJson,
  inspectContainer,
  projectObjects,
  removeProject,
  serviceContainer,
} from './helpers/demo.js'
import { berth, git, testdir } from './helpers/index.js'
import { itemsPortBlock, itemsStackRepo } from './helpers/items-stack.js'

const RUN = randomBytes(2).toString('hex')
/** Every compose project this file may have created: the safety net removes exactly these. */
const ourProjects = new Set<string>()
const cleanups: (() => void)[] = []

after(async () => {
  await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  for (const cleanup of cleanups) cleanup()
})

function registry(home: string): { instances: Record<string, unknown>[] } {
  return JSON.parse(readFileSync(join(home, 'registry.json'), 'utf8'))
}

async function httpText(url: string): Promise<string> {
  const response = await fetch(url)
  return (await response.text()).trim()
}

/** A scratch repository with the busybox items stack, its own BERTH_HOME and a runner for berth. */
async function itemsProject(label: string, extra: Record<string, unknown> = {}) {
  const { dir, cleanup } = testdir(`berth-parity-${label}-`)
  cleanups.push(cleanup)
  const project = `prt${RUN}${label}`
  const block = itemsPortBlock()
  const repo = await itemsStackRepo(dir, project, block, extra)
  const home = join(dir, 'home')
  const run = (args: string[], cwd = repo) => berth(args, { cwd, home, timeoutMs: 180_000 })
  const id = (feature: string, kind = 'impl') => {
    const value = `${project}-${kind}-${feature}`
    ourProjects.add(value)
    return value
  }
  return { dir, repo, home, project, block, run, id }
}

describe('a sandbox on an existing branch', () => {
  test('impl --branch runs the stack on a branch only origin has, done keeps the branch, a branch checked out elsewhere exits 3', async () => {
    const p = await itemsProject('br')
    // Someone else pushes feature/review-me from their own clone; this clone has never seen it.
    const other = join(p.dir, 'someone-else')
    await git(p.dir, 'clone', '-q', join(p.dir, 'origin.git'), other)
    await git(other, 'checkout', '-q', '-b', 'feature/review-me')
    writeFileSync(join(other, 'www/index.html'), 'the code under review\n')
    await git(other, 'commit', '-q', '-am', 'review me')
    await git(other, 'push', '-q', '-u', 'origin', 'feature/review-me')
    assert.equal(await git(p.repo, 'branch', '--list', 'feature/review-me'), '')

    const id = p.id('r')
    const made = await p.run(['impl', 'r', '--branch', 'feature/review-me', '--json'])
    assert.equal(made.code, 0, made.stderr)
    const tree = made.json.instance.path as string
    assert.equal((await git(tree, 'rev-parse', '--abbrev-ref', 'HEAD')).trim(), 'feature/review-me')
    assert.equal((await git(tree, 'rev-parse', '--abbrev-ref', '@{upstream}')).trim(), 'origin/feature/review-me')
    const port = made.json.instance.ports.SHOP_API_PORT as number
    assert.equal(await httpText(`http://127.0.0.1:${port}/`), 'the code under review')
    const record = registry(p.home).instances.find((r) => r.id === id)!
    assert.equal(record.branch, 'feature/review-me')
    assert.equal(record.branchCreatedByBerth, false)

    // Unpushed work on that branch is refused as on any other; pushed, done goes ahead.
    writeFileSync(join(tree, 'www/index.html'), 'reviewed\n')
    await git(tree, 'commit', '-q', '-am', 'review fix')
    const refused = await p.run(['done', 'r'])
    assert.equal(refused.code, 3, refused.stderr)
    assert.match(refused.stderr, /unpushed/)
    await git(tree, 'push', '-q')
    const done = await p.run(['done', 'r', '--json'])
    assert.equal(done.code, 0, done.stderr)
    assert.equal(existsSync(tree), false)
    assert.notEqual((await git(p.repo, 'rev-parse', '--verify', 'refs/heads/feature/review-me')).trim(), '')
    assert.match(await git(p.repo, 'ls-remote', '--heads', 'origin', 'feature/review-me'), /feature\/review-me/)
    assert.equal((await projectObjects(id)).containers.length, 0)

    // A branch checked out in another worktree (here a plain git worktree) exits 3 naming it.
    const elsewhere = join(p.dir, 'elsewhere')
    await git(p.repo, 'worktree', 'add', '-q', elsewhere, 'feature/review-me')
    const taken = await p.run(['impl', 'r2', '--branch', 'feature/review-me'])
    assert.equal(taken.code, 3, taken.stderr)
    assert.ok(taken.stderr.includes(elsewhere), taken.stderr)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-r2`)), false)
    assert.equal(registry(p.home).instances.length, 0)
    const onMain = await p.run(['spec', 's', '--branch', 'main'])
    assert.equal(onMain.code, 3, onMain.stderr)
    assert.ok(onMain.stderr.includes(p.repo), onMain.stderr)

    // spec takes --branch too: the local branch is reused, and done leaves it.
    await git(p.repo, 'worktree', 'remove', elsewhere)
    const spec = await p.run(['spec', 's', '--branch', 'feature/review-me', '--json'])
    assert.equal(spec.code, 0, spec.stderr)
    assert.equal((await git(spec.json.instance.path, 'branch', '--show-current')).trim(), 'feature/review-me')
    const specDone = await p.run(['done', 's'])
    assert.equal(specDone.code, 0, specDone.stderr)
    assert.notEqual((await git(p.repo, 'branch', '--list', 'feature/review-me')).trim(), '')

    // A branch found nowhere is bad input: exit 2, nothing made.
    const missing = await p.run(['impl', 'nope', '--branch', 'feature/not-there'])
    assert.equal(missing.code, 2, missing.stderr)
    assert.match(missing.stderr, /feature\/not-there/)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-nope`)), false)
    assert.equal(registry(p.home).instances.length, 0)
  })
})

describe('cleaning up every instance', () => {
  test('sandbox destroy --all removes every instance it safely can, keeps the one with unpushed work and says why (exit 3); --dry-run changes nothing', async () => {
    const p = await itemsProject('all', { slots: { pool: [1, 2, 3] } })
    const ids = ['a', 'b', 'c'].map((feature) => p.id(feature))
    for (const feature of ['a', 'b', 'c']) {
      const made = await p.run(['impl', feature])
      assert.equal(made.code, 0, made.stderr)
    }
    const keep = join(p.dir, `${p.project}-impl-c`)
    writeFileSync(join(keep, 'www/index.html'), 'work in progress\n')
    await git(keep, 'commit', '-q', '-am', 'not pushed yet')
    const running = async (id: string) => (await projectObjects(id)).containers.length

    const planned = await p.run(['sandbox', 'destroy', '--all', '--dry-run', '--json'])
    assert.equal(planned.code, 3, planned.stderr)
    assert.equal(planned.json.all.dryRun, true)
    assert.deepEqual(planned.json.all.went.map((e: { id: string }) => e.id).sort(), ids.slice(0, 2))
    assert.deepEqual(
      planned.json.all.stayed.map((e: { id: string }) => e.id),
      [ids[2]],
    )
    assert.match(planned.json.all.stayed[0].reason, /unpushed/)
    assert.equal(registry(p.home).instances.length, 3)
    for (const id of ids) assert.ok((await running(id)) > 0, `${id} still runs after --dry-run`)
    for (const feature of ['a', 'b', 'c']) assert.ok(existsSync(join(p.dir, `${p.project}-impl-${feature}`)))

    const destroyed = await p.run(['sandbox', 'destroy', '--all', '--json'])
    assert.equal(destroyed.code, 3, destroyed.stderr)
    assert.equal(destroyed.json.ok, false)
    assert.deepEqual(destroyed.json.all.went.map((e: { id: string }) => e.id).sort(), ids.slice(0, 2))
    const stayed = destroyed.json.all.stayed[0]
    assert.equal(stayed.id, ids[2])
    assert.equal(stayed.exitCode, 3)
    assert.match(stayed.reason, /unpushed/)
    assert.match(stayed.hint, /--force/)
    for (const id of ids.slice(0, 2)) assert.equal(await running(id), 0)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-a`)), false)
    assert.equal(existsSync(join(p.dir, `${p.project}-impl-b`)), false)
    assert.ok((await running(ids[2]!)) > 0, 'the kept instance still runs')
    assert.ok(existsSync(keep))
    assert.deepEqual(
      registry(p.home).instances.map((r) => r.id),
      [ids[2]],
    )

    // done --all says the same for humans; with --force the last one goes too.
    const told = await p.run(['done', '--all'])
    assert.equal(told.code, 3, told.stderr)
    assert.match(told.stdout, /kept\s+\S+-impl-c slot \d: [\s\S]*unpushed/)
    assert.match(told.stdout, /0 removed, 1 kept/)
    const forced = await p.run(['done', '--all', '--force', '--json'])
    assert.equal(forced.code, 0, forced.stderr)
    assert.deepEqual(
      forced.json.all.went.map((e: { id: string }) => e.id),
      [ids[2]],
    )
    assert.equal(registry(p.home).instances.length, 0)
    assert.equal(await running(ids[2]!), 0)
    const nothing = await p.run(['done', '--all'])
    assert.equal(nothing.code, 0, nothing.stderr)
    assert.match(nothing.stdout, /nothing to remove/)
  })
})

describe('slot profiles on the demo stack', () => {
  test('impl --profile light runs one worker and its gate expects one, heavy runs four on its pinned slot, sandbox up --profile switches; list and status show each profile', async () => {
    await buildDemoImages()
    const { dir, cleanup } = testdir('berth-parity-profiles-')
    cleanups.push(cleanup)
    const project = `prt${RUN}prof`
    const block = 40000 + Math.floor(Math.random() * 90) * 100
    const config = demoConfig(project, block) as { gate: { checks: { name: string; expect?: object }[] } }
    for (const check of config.gate.checks) {
      if (check.name === 'workers') check.expect = { minItems: '${WORKERS}' }
    }
    const off = (...services: string[]) => Object.fromEntries(services.map((s) => [s, 0]))
    const profiles = {
      light: { scale: off('worker-2', 'worker-3', 'worker-4'), env: { WORKERS: 1, E2E_EXPECT_WORKERS: 1 } },
      standard: { scale: off('worker-3', 'worker-4'), env: { WORKERS: 2, E2E_EXPECT_WORKERS: 2 } },
      heavy: { env: { WORKERS: 4 }, slots: [3], default: true },
    }
    const { repo } = await demoRepo(dir, project, { ...config, profiles })
    const home = join(dir, 'home')
    const run = (args: string[]) => berth(args, { cwd: repo, home, timeoutMs: 300_000 })
    const idA = `${project}-impl-a`
    const idB = `${project}-impl-b`
    ourProjects.add(idA)
    ourProjects.add(idB)
    const workersOf = async (id: string) =>
      (await projectObjects(id)).containers
        .filter((c) => c.State === 'running' && /^worker-/.test(c.Labels['com.docker.compose.service'] ?? ''))
        .map((c) => c.Labels['com.docker.compose.service'])
        .sort()

    const light = await run(['impl', 'a', '--profile', 'light', '--json'])
    assert.equal(light.code, 0, light.stderr)
    assert.equal(light.json.instance.slot, 1)
    assert.equal(light.json.instance.profile, 'light')
    assert.deepEqual(await workersOf(idA), ['worker-1'])
    // The default profile (heavy) expects 4: passing with one worker running means the gate took light's WORKERS.
    assert.equal(light.json.profile.env.WORKERS, '1')
    assert.equal(light.json.gate.passed, true)
    const workersCheck = light.json.gate.checks.find((c: { name: string }) => c.name === 'workers')
    assert.equal(workersCheck.status, 'passed')
    const api = `http://127.0.0.1:${light.json.instance.ports.KTRDR_API_PORT}`
    assert.equal((await getJson(`${api}/api/v1/workers`)).body.length, 1)
    const rendered = readFileSync(join(light.json.instance.path, '.sandbox/compose.yaml'), 'utf8')
    assert.match(rendered, /worker-2:[\s\S]*?scale: 0/)

    // heavy is pinned to slot 3: the pool's free slot 2 is passed over; a switch of slot 1 to it exits 3.
    const switchRefused = await berth(['sandbox', 'up', '--profile', 'heavy'], {
      cwd: light.json.instance.path,
      home,
      timeoutMs: 300_000,
    })
    assert.equal(switchRefused.code, 3, switchRefused.stderr)
    assert.match(switchRefused.stderr, /slot 1.*heavy/)
    const heavy = await run(['impl', 'b', '--json'])
    assert.equal(heavy.code, 0, heavy.stderr)
    assert.equal(heavy.json.instance.slot, 3)
    assert.equal(heavy.json.instance.profile, 'heavy')
    assert.deepEqual(await workersOf(idB), ['worker-1', 'worker-2', 'worker-3', 'worker-4'])
    const heavyApi = `http://127.0.0.1:${heavy.json.instance.ports.KTRDR_API_PORT}`
    assert.equal((await getJson(`${heavyApi}/api/v1/workers`)).body.length, 4)

    // sandbox up --profile standard on slot 1: two workers, the gate expecting two.
    const standard = await berth(['sandbox', 'up', '--profile', 'standard', '--json'], {
      cwd: light.json.instance.path,
      home,
      timeoutMs: 300_000,
    })
    assert.equal(standard.code, 0, standard.stderr)
    assert.equal(standard.json.profile.name, 'standard')
    assert.deepEqual(await workersOf(idA), ['worker-1', 'worker-2'])

    const list = await run(['sandbox', 'list', '--json'])
    assert.equal(list.code, 0, list.stderr)
    const profileOf = Object.fromEntries(
      list.json.instances.map((i: { id: string; profile?: string }) => [i.id, i.profile]),
    )
    assert.deepEqual(profileOf, { [idA]: 'standard', [idB]: 'heavy' })
    const human = await run(['sandbox', 'list'])
    assert.match(human.stdout, /PROFILE/)
    assert.match(human.stdout, /impl-a\s+impl\s+1\s+standard/)
    const status = await berth(['sandbox', 'status'], { cwd: heavy.json.instance.path, home })
    assert.equal(status.code, 0, status.stderr)
    assert.match(status.stdout, /profile: heavy/)

    const done = await run(['done', '--all', '--force'])
    assert.equal(done.code, 0, done.stderr)
    assert.equal((await projectObjects(idA)).containers.length, 0)
    assert.equal((await projectObjects(idB)).containers.length, 0)
  })
})

/** A TCP listener on 127.0.0.1 standing in for a service that runs natively on the host. */
async function hostListener(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

async function extraHosts(project: string, service: string): Promise<string[]> {
  const container = await serviceContainer(project, service)
  const inspected = (await inspectContainer(container.Id)) as unknown as { HostConfig: { ExtraHosts: string[] | null } }
  return inspected.HostConfig.ExtraHosts ?? []
}

describe('host services for local-prod', () => {
  test("local-prod's containers get host.docker.internal on the engine's host gateway, a sandbox's do not; doctor and the gate check say whether a host service answers on 127.0.0.1", async () => {
    const { server, port } = await hostListener()
    const p = await itemsProject('host', {
      hostServices: { services: [{ name: 'gpu-trainer', port }], gate: true, timeout: 1 },
    })
    const localProd = p.id('x').replace(/-impl-x$/, '')
    ourProjects.add(localProd)
    const sandbox = p.id('s')

    const init = await p.run(['local-prod', 'init'])
    assert.equal(init.code, 0, init.stderr)
    const up = await p.run(['local-prod', 'up', '--json'])
    assert.equal(up.code, 0, up.stderr)
    assert.deepEqual(up.json.hostServices, [{ name: 'gpu-trainer', port, answered: true }])
    const lpId = up.json.instance.id as string
    ourProjects.add(lpId)
    assert.ok((await extraHosts(lpId, 'api')).includes('host.docker.internal:host-gateway'))
    const rendered = readFileSync(join(p.repo, '.sandbox/compose.yaml'), 'utf8')
    assert.match(rendered, /extra_hosts:\n\s+- host.docker.internal:host-gateway/)

    const made = await p.run(['impl', 's'])
    assert.equal(made.code, 0, made.stderr)
    assert.ok(!(await extraHosts(sandbox, 'api')).some((entry) => entry.startsWith('host.docker.internal')))

    const answering = await p.run(['doctor', '--json'])
    const found = (doc: { checks?: { check: string }[]; diagnoses?: { check: string }[] }) =>
      (doc.checks ?? doc.diagnoses ?? []).find((c) => c.check === 'host service gpu-trainer') as
        | { status: string; detail: string }
        | undefined
    assert.ok(answering.json, answering.stdout + answering.stderr)
    const ok = found(answering.json)
    assert.equal(ok?.status, 'ok', JSON.stringify(answering.json))
    assert.match(ok!.detail, new RegExp(`answers on 127.0.0.1:${port}`))

    await new Promise((resolve) => server.close(resolve))
    const silent = await p.run(['doctor', '--json'])
    const warn = found(silent.json)
    assert.equal(warn?.status, 'warn')
    assert.match(warn!.detail, new RegExp(`nothing answers on 127.0.0.1:${port}`))
    const human = await p.run(['doctor'])
    assert.match(human.stdout + human.stderr, /host service gpu-trainer: nothing answers/)

    // The optional gate check: with the host service gone, local-prod up fails naming it.
    const again = await p.run(['local-prod', 'up'])
    assert.equal(again.code, 1, again.stderr)
    assert.match(again.stderr, new RegExp(`gpu-trainer \\(127.0.0.1:${port}\\) did not answer`))
    // A sandbox is not held to it: its kind does not reach host services.
    const sandboxUp = await berth(['sandbox', 'up'], { cwd: join(p.dir, `${p.project}-impl-s`), home: p.home })
    assert.equal(sandboxUp.code, 0, sandboxUp.stderr)

    assert.equal((await p.run(['done', 's', '--force'])).code, 0)
    assert.equal((await p.run(['local-prod', 'destroy'])).code, 0)
    assert.equal((await projectObjects(lpId)).containers.length, 0)
  })
})
