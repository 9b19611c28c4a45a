/**
 * Engine-wide names through the real CLI: two repositories whose folders share a name
 * (`<dir>/a/<name>`, `<dir>/b/<name>`: the same default project name, so the same instance ids)
 * never act on each other's registry records, containers, volumes or networks. In one BERTH_HOME
 * the registry refuses an id another checkout holds and scopes every lookup to the repository; in
 * two BERTH_HOMEs the compose steps refuse a compose project whose containers were made elsewhere.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import { ensureBusyboxTestImage } from '../plugins/contract/src/testing.js'
import { type EngineContainer, projectObjects, removeProject } from './helpers/demo.js'
import { type BerthResult, berth, expectExit, git, gitRepo, testdir } from './helpers/index.js'

const root = testdir('berth-engine-names-')
const ourProjects = new Set<string>()
after(
  async () => {
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
    root.cleanup()
  },
  { timeout: 60_000 },
)

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)))
  })
}

/** A base in 37000-39000 whose 12 ports from it are free now. */
async function freeBase(): Promise<number> {
  for (;;) {
    const base = 37000 + Math.floor(Math.random() * 100) * 20
    if ((await Promise.all(Array.from({ length: 12 }, (_, i) => canBind(base + i)))).every(Boolean)) return base
  }
}

const COMPOSE_YAML = `services:
  web:
    image: berth-compose-test-busybox:local
    command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]
    ports:
      - "127.0.0.1:\${WEB_PORT}:8080"
`

interface Twin {
  /** `<group>/<name>`: the main clone. */
  repo: string
  /** The folder holding it and its worktrees. */
  dir: string
  run(args: string[], cwd?: string): Promise<BerthResult>
}

/** Two repositories with their own origins whose folders are both called `name`. */
async function twins(label: string, homes: { a: string; b: string }, base: { a: number; b: number }) {
  const name = `svc${randomBytes(3).toString('hex')}`
  const make = async (side: 'a' | 'b'): Promise<Twin> => {
    const dir = join(root.dir, label, side)
    const config = {
      ports: { WEB_PORT: { base: base[side] } },
      slots: { pool: [1, 2, 3, 4] },
      compose: { files: ['compose.yaml'] },
      gate: { checks: [{ name: 'web', http: 'http://127.0.0.1:${WEB_PORT}/' }] },
    }
    const { repo } = await gitRepo(dir, name, {
      'berth.config.json': `${JSON.stringify(config, null, 2)}\n`,
      'compose.yaml': COMPOSE_YAML,
    })
    return { repo, dir, run: (args, cwd = repo) => berth(args, { cwd, home: homes[side], timeoutMs: 180_000 }) }
  }
  return { name, a: await make('a'), b: await make('b') }
}

function registryText(home: string): string | null {
  const file = join(home, 'registry.json')
  return existsSync(file) ? readFileSync(file, 'utf8') : null
}

describe('two repositories whose folders share a name', { concurrency: true }, () => {
  test('in one BERTH_HOME they never see or touch each other: an id the other checkout holds exits 3 naming it; list, slots, release and done are scoped to each repository', {
    timeout: 180_000,
  }, async () => {
    const home = join(root.dir, 'homes', 'shared')
    const base = await freeBase()
    const { name, a, b } = await twins('shared', { a: home, b: home }, { a: base, b: base })
    const id = (feature: string) => `${name}-impl-${feature}`
    expectExit(await a.run(['impl', 'x', '--no-up']), 0, 'a: impl x')
    expectExit(await a.run(['sandbox', 'init']), 0, 'a: sandbox init')
    const before = registryText(home)

    const taken = expectExit(await b.run(['impl', 'x', '--no-up', '--json']), 3, 'b: impl x')
    assert.equal(taken.json.error.code, 'E_INSTANCE_EXISTS')
    assert.match(
      taken.json.error.message,
      new RegExp(`instance ${id('x')} is already registered for another checkout, ${join(a.dir, id('x'))}`),
    )
    assert.match(taken.json.error.hint, /unique on the Docker engine/)
    assert.equal(existsSync(join(b.dir, id('x'))), false, 'no worktree was made')
    assert.equal((await git(b.repo, 'branch', '--list', 'impl/x')).trim(), '', 'no branch was made')
    const main = expectExit(await b.run(['sandbox', 'init', '--json']), 3, 'b: sandbox init')
    assert.match(
      main.json.error.message,
      new RegExp(`instance ${name} is already registered for another checkout, ${a.repo}`),
    )
    assert.equal(registryText(home), before, 'the registry is unchanged')

    const own = expectExit(await b.run(['impl', 'y', '--no-up', '--json']), 0, 'b: impl y')
    assert.equal(own.json.instance.slot, 3, "slots 1 and 2 hold a's ports")
    const listA = expectExit(await a.run(['sandbox', 'list', '--json']), 0, 'a: list').json.instances
    const listB = expectExit(await b.run(['sandbox', 'list', '--json']), 0, 'b: list').json.instances
    assert.deepEqual(listA.map((i: { id: string }) => i.id).sort(), [name, id('x')].sort())
    assert.deepEqual(
      listB.map((i: { id: string }) => i.id),
      [id('y')],
    )
    const slotsB = expectExit(await b.run(['sandbox', 'slots', '--json']), 0, 'b: slots').json.slots
    assert.equal(slotsB[1].state, 'blocked', "a's claim is not b's")
    assert.equal(slotsB[1].blockedBy[0].id, id('x'))
    assert.equal(slotsB[3].state, 'claimed')

    const notHere = expectExit(await b.run(['done', 'x', '--json']), 2, 'b: done x')
    assert.match(notHere.json.error.hint, new RegExp(`${id('x')} is an instance of another repository \\(${a.repo}\\)`))
    expectExit(await b.run(['sandbox', 'release', '1']), 2, 'b: sandbox release 1')
    assert.ok(existsSync(join(a.dir, id('x'))), "a's worktree is untouched")
    assert.ok(registryText(home)?.includes(`"id": "${id('x')}"`), "a's claim is untouched")

    expectExit(await a.run(['done', 'x']), 0, 'a: done x')
    expectExit(await b.run(['done', 'y']), 0, 'b: done y')
  })

  test('in two BERTH_HOMEs a running stack of the same compose project name is never started over, stopped or removed from the other checkout: exit 3 naming its folder', {
    timeout: 300_000,
  }, async () => {
    await ensureBusyboxTestImage()
    const homes = { a: join(root.dir, 'homes', 'engine-a'), b: join(root.dir, 'homes', 'engine-b') }
    const baseA = await freeBase()
    let baseB = await freeBase()
    while (Math.abs(baseB - baseA) < 12) baseB = await freeBase()
    const { name, a, b } = await twins('engine', homes, { a: baseA, b: baseB })
    const project = `${name}-impl-x`
    ourProjects.add(project)
    ourProjects.add(name)
    expectExit(await a.run(['impl', 'x']), 0, 'a: impl x (started, gate passed)')
    const running = await projectObjects(project)
    const ids = running.containers.map((c: EngineContainer) => c.Id).sort()
    assert.equal(ids.length, 1)

    const refused = expectExit(await b.run(['impl', 'x', '--json']), 3, 'b: impl x')
    assert.equal(refused.json.error.code, 'E_PROJECT_FOREIGN')
    assert.match(
      refused.json.error.message,
      new RegExp(
        `compose project ${project} on this Docker engine belongs to another checkout: its containers were made in ${join(a.dir, project)}`,
      ),
    )
    assert.equal(existsSync(join(b.dir, project)), false, "b's worktree was rolled back")
    assert.equal((await git(b.repo, 'branch', '--list', 'impl/x')).trim(), '', "b's branch was rolled back")
    assert.deepEqual(JSON.parse(registryText(homes.b) ?? '{"instances":[]}').instances, [], "b's claim was released")

    // An instance of b registered under a's id (another home cannot know it is taken).
    expectExit(await b.run(['sandbox', 'init', '--name', project]), 0, 'b: sandbox init --name')
    const down = expectExit(await b.run(['sandbox', 'down', '--json']), 3, 'b: sandbox down')
    assert.equal(down.json.error.code, 'E_PROJECT_FOREIGN')
    const destroy = expectExit(await b.run(['sandbox', 'destroy', '--keep-worktree', '--json']), 3, 'b: destroy')
    assert.equal(destroy.json.error.code, 'E_PROJECT_FOREIGN')
    const after = await projectObjects(project)
    assert.deepEqual(after.containers.map((c: EngineContainer) => c.Id).sort(), ids, "a's container is the same one")
    assert.ok(
      after.containers.every((c: EngineContainer) => c.State === 'running'),
      "a's stack still runs",
    )
    assert.equal(after.volumes.length, running.volumes.length)
    assert.equal(after.networks.length, running.networks.length)

    expectExit(await b.run(['sandbox', 'release', '1']), 0, 'b: release its claim (touches nothing else)')
    expectExit(await a.run(['done', 'x', '--force']), 0, 'a: done x')
    assert.equal((await projectObjects(project)).containers.length, 0)
  })
})
