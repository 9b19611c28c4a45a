/**
 * The machine's cap on running stacks (`limits.maxRunning`, `BERTH_MAX_RUNNING`) and the strict
 * guardrails (`compose.lint.strict`, `berth doctor`), end to end through the real `berth` CLI on
 * the real Docker engine, in real git repositories with a bare origin.
 *
 * Each repository runs a one-service busybox stack (the local test image, no registry needed)
 * and has its own BERTH_HOME, so only its own stacks count against its cap. `after` removes every
 * instance with `berth done --force`, then anything still labelled with their compose projects.
 */
import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import { engine, lineOf, projectObjects, removeProject } from './helpers/demo.js'
import {
  BERTH_BIN,
  type BerthResult,
  berth,
  berthEnv,
  expectExit,
  git,
  gitRepo,
  testdir,
  writeConfig,
} from './helpers/index.js'
import { itemsPortBlock, itemsStackRepo } from './helpers/items-stack.js'

const RUN = randomBytes(2).toString('hex')

/** Containers of compose project `project` that are running now. */
async function runningContainers(project: string): Promise<number> {
  return (await projectObjects(project)).containers.filter((c) => c.State === 'running').length
}

/** A berth command started in the background, its stderr collected as it comes. */
interface Background {
  child: ChildProcess
  stderr(): string
  exit: Promise<BerthResult>
}

function startBerth(args: string[], cwd: string, home: string, env: NodeJS.ProcessEnv = {}): Background {
  const child = spawn(process.execPath, [BERTH_BIN, ...args], {
    cwd,
    env: berthEnv(home, env),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000)
  const exit = new Promise<BerthResult>((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code: code ?? -1, stdout, stderr, json: undefined })
    })
  })
  return { child, stderr: () => stderr, exit }
}

/** Resolves once `probe` holds (checked every 100 ms), failing after `ms`. */
async function until(what: string, probe: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('the cap on running stacks (real CLI, real engine)', { concurrency: 1 }, () => {
  const { dir, cleanup } = testdir('berth-cap-')
  const home = join(dir, 'home')
  const name = `cap${RUN}`
  const features = ['a', 'b', 'c']
  const id = (feature: string) => `${name}-impl-${feature}`
  const tree = (feature: string) => join(dir, id(feature))
  let repo = ''
  const run = (args: string[], cwd = repo, env: NodeJS.ProcessEnv = {}) =>
    berth(args, { cwd, home, env, timeoutMs: 180_000 })

  before(
    async () => {
      await engine('/_ping')
      repo = await itemsStackRepo(dir, name, itemsPortBlock(), {
        slots: { pool: [1, 2, 3, 4] },
        limits: { maxRunning: 2 },
      })
    },
    { timeout: 120_000 },
  )

  after(
    async () => {
      await Promise.all(features.map((f) => run(['done', f, '--force']).catch(() => undefined)))
      await Promise.all(features.map((f) => removeProject(id(f)).catch(() => undefined)))
      cleanup()
    },
    { timeout: 180_000 },
  )

  test('with a cap of 2 running stacks, a third impl exits 3 naming the two running ones, and nothing is created for it', {
    timeout: 240_000,
  }, async () => {
    const [a, b] = await Promise.all([run(['impl', 'a']), run(['impl', 'b'])])
    expectExit(a, 0, 'impl a')
    expectExit(b, 0, 'impl b')
    const c = expectExit(await run(['impl', 'c', '--json']), 3, 'impl c beyond the cap')
    assert.equal(c.json.error.code, 'E_CAP_REACHED')
    for (const feature of ['a', 'b']) {
      assert.ok(
        c.json.error.message.includes(`${id(feature)} (project ${name}, ${tree(feature)})`),
        c.json.error.message,
      )
    }
    assert.match(c.json.error.message, /cap of 2 running stacks \(limits\.maxRunning\)/)
    assert.match(c.json.error.hint, /berth done <name>.*sandbox down.*limits\.maxRunning.*--queue/)
    assert.deepEqual(c.json.error.details.running.map((s: { id: string }) => s.id).sort(), [id('a'), id('b')])
    // Refused before anything was made: no containers, no worktree, no claim.
    assert.equal((await projectObjects(id('c'))).containers.length, 0)
    assert.equal(existsSync(tree('c')), false, 'no worktree for c')
    const list = expectExit(await run(['sandbox', 'list', '--json']), 0, 'sandbox list')
    assert.deepEqual(list.json.instances.map((i: { id: string }) => i.id).sort(), [id('a'), id('b')])
  })

  test('an instance already running is not refused by the cap when it is brought up again', {
    timeout: 120_000,
  }, async () => {
    const again = expectExit(await run(['sandbox', 'up', '--json'], tree('a')), 0, 'sandbox up of running a')
    assert.equal(again.json.capacity.reserved, false)
    assert.equal(again.json.capacity.maxRunning, 2)
  })

  test('after sandbox down of a running stack, the refused impl starts', { timeout: 180_000 }, async () => {
    expectExit(await run(['sandbox', 'down'], tree('a')), 0, 'sandbox down in a')
    assert.equal(await runningContainers(id('a')), 0)
    const c = expectExit(await run(['impl', 'c', '--json']), 0, 'impl c once a place is free')
    assert.equal(c.json.capacity.reserved, true)
    assert.deepEqual(
      c.json.capacity.running.map((s: { id: string }) => s.id),
      [id('b')],
    )
    assert.ok((await runningContainers(id('c'))) > 0)
  })

  test('sandbox up --queue waits while the cap is reached, names whom it waits for, and starts when a stack stops', {
    timeout: 180_000,
  }, async () => {
    // Running: b and c. a waits in the queue.
    const queued = startBerth(['sandbox', 'up', '--queue'], tree('a'), home)
    await until('the queue message', () => /waiting for a free place/.test(queued.stderr()))
    assert.ok(queued.stderr().includes(id('b')) && queued.stderr().includes(id('c')), queued.stderr())
    assert.equal(await runningContainers(id('a')), 0, 'nothing of a starts while it waits')
    expectExit(await run(['sandbox', 'down'], tree('c')), 0, 'sandbox down in c')
    const result = expectExit(await queued.exit, 0, 'the queued sandbox up')
    assert.ok((await runningContainers(id('a'))) > 0, 'a runs once c stopped')
    assert.match(result.stdout, /got a free place after waiting \d+ s/)
  })

  test('Ctrl-C while queued exits 130 and leaves nothing started and no place held', { timeout: 120_000 }, async () => {
    // Running: a and b. c waits, then is interrupted.
    const queued = startBerth(['sandbox', 'up', '--queue'], tree('c'), home)
    await until('the queue message', () => /waiting for a free place/.test(queued.stderr()))
    queued.child.kill('SIGINT')
    const result = await queued.exit
    expectExit(result, 130, 'the interrupted queued sandbox up')
    assert.equal(await runningContainers(id('c')), 0)
    assert.equal(existsSync(join(home, 'starting')) ? readdirSync(join(home, 'starting')).length : 0, 0)
    // Without --queue-timeout's default half hour: a short bound exits 3 like a refusal.
    const bounded = await run(['sandbox', 'up', '--queue', '--queue-timeout', '1', '--json'], tree('c'))
    expectExit(bounded, 3, 'sandbox up --queue --queue-timeout 1')
    assert.match(bounded.json.error.message, /still after waiting/)
  })

  test('two ups at the same moment with one place left: exactly one starts, the other exits 3', {
    timeout: 240_000,
  }, async () => {
    expectExit(await run(['sandbox', 'down'], tree('b')), 0, 'sandbox down in b')
    // Running: a. One place left for b and c, asked at once.
    const [b, c] = await Promise.all([
      run(['sandbox', 'up', '--json'], tree('b')),
      run(['sandbox', 'up', '--json'], tree('c')),
    ])
    const codes = [b.code, c.code].sort()
    assert.deepEqual(codes, [0, 3], `exit codes\n--- b\n${b.stderr}\n--- c\n${c.stderr}`)
    const [winner, loser] = b.code === 0 ? ['b', 'c'] : ['c', 'b']
    const refused = b.code === 0 ? c : b
    assert.equal(refused.json.error.code, 'E_CAP_REACHED')
    assert.ok(refused.json.error.message.includes(id(winner)), refused.json.error.message)
    assert.ok((await runningContainers(id(winner))) > 0)
    assert.equal(await runningContainers(id(loser)), 0, `${loser} started nothing`)

    // BERTH_MAX_RUNNING overrides the config (one value for every repository on the machine) …
    const raised = await run(['sandbox', 'up', '--json'], tree(loser), { BERTH_MAX_RUNNING: '3' })
    expectExit(raised, 0, 'sandbox up with BERTH_MAX_RUNNING=3')
    assert.equal(raised.json.capacity.source, 'BERTH_MAX_RUNNING')
    // … and a malformed value is a usage error before anything runs.
    const bad = await run(['sandbox', 'up'], tree(loser), { BERTH_MAX_RUNNING: 'lots' })
    expectExit(bad, 2, 'sandbox up with BERTH_MAX_RUNNING=lots')
    assert.match(bad.stderr, /BERTH_MAX_RUNNING="lots" is not a number of stacks/)
    // Three run now under the config's cap of 2: doctor says so.
    const doctor = await run(['doctor', '--json'])
    const held = doctor.json.checks.find((c: { check: string }) => c.check === 'running stacks')
    assert.equal(held?.status, 'warn', JSON.stringify(doctor.json.checks))
    assert.match(held.detail, /^3 of the cap of 2 \(limits\.maxRunning\)/)
  })
})

describe('strict guardrails: lint refuses, doctor reports running stacks (real CLI, real engine)', {
  concurrency: 1,
}, () => {
  const { dir, cleanup } = testdir('berth-strict-')
  const home = join(dir, 'home')
  const name = `strict${RUN}`
  const id = (feature: string) => `${name}-impl-${feature}`
  const tree = (feature: string) => join(dir, id(feature))
  const block = itemsPortBlock()
  let repo = ''
  let image = ''
  const run = (args: string[], cwd = repo) => berth(args, { cwd, home, timeoutMs: 180_000 })
  const baseConfig = () => ({
    compose: { files: ['compose.yaml'] },
    ports: { STRICT_API_PORT: { base: block } },
    slots: { pool: [1, 2, 3] },
    gate: { timeout: 30, checks: [{ name: 'api', http: 'http://127.0.0.1:${STRICT_API_PORT}/' }] },
  })
  /** The compose file: `api` serves HTTP; `tool` gets what the test gives it (cap_add, privileged, a socket mount). */
  const composeFile = (toolExtra: string[]) =>
    [
      'services:',
      '  api:',
      `    image: ${image}`,
      '    command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]',
      '    volumes: ["./www:/www:ro"]',
      '    ports: ["127.0.0.1:${STRICT_API_PORT}:8080"]',
      '  tool:',
      `    image: ${image}`,
      '    command: ["/bin/busybox", "sleep", "3600"]',
      ...toolExtra.map((line) => `    ${line}`),
      '',
    ].join('\n')
  /** Writes the main checkout's compose file and config (uncommitted: lint reads the checkout berth runs in). */
  const setUp = (toolExtra: string[], strict: boolean) => {
    writeFileSync(join(repo, 'compose.yaml'), composeFile(toolExtra))
    writeConfig(repo, { ...baseConfig(), compose: { files: ['compose.yaml'], lint: { strict } } })
  }
  /** Nothing of instance `feature` exists: no worktree, no claim, no containers. */
  const assertNothingFor = async (feature: string) => {
    assert.equal(existsSync(tree(feature)), false, `no worktree for ${feature}`)
    const list = expectExit(await run(['sandbox', 'list', '--json']), 0, 'sandbox list')
    assert.ok(!list.json.instances.some((i: { id: string }) => i.id === id(feature)), `no claim for ${feature}`)
    const objects = await projectObjects(id(feature))
    assert.equal(objects.containers.length + objects.networks.length + objects.volumes.length, 0)
  }

  before(
    async () => {
      await engine('/_ping')
      image = await ensureBusyboxTestImage()
      ;({ repo } = await gitRepo(dir, name, { 'www/index.html': 'ok\n' }))
      // The committed stack (what `impl` checks out): `tool` with an added capability, which only
      // strict mode refuses — and which this engine can run (unlike `privileged`, refused by some
      // engines that run in a container themselves).
      setUp(['cap_add: ["NET_ADMIN"]'], false)
      await git(repo, 'add', '-A')
      await git(repo, 'commit', '-q', '-m', 'a stack with an added capability')
      await git(repo, 'push', '-q')
    },
    { timeout: 120_000 },
  )

  after(
    async () => {
      for (const feature of ['cap', 'sock', 'priv', 'priv2', 'cap2']) {
        await run(['done', feature, '--force']).catch(() => undefined)
        await removeProject(id(feature)).catch(() => undefined)
      }
      cleanup()
    },
    { timeout: 180_000 },
  )

  test('cap_add passes without strict mode: impl starts the stack, printing a lint warning', {
    timeout: 180_000,
  }, async () => {
    const result = expectExit(await run(['impl', 'cap']), 0, 'impl cap without strict')
    assert.match(result.stderr, /compose\.yaml:\d+: service "tool": cap_add: NET_ADMIN/)
    assert.ok((await runningContainers(id('cap'))) >= 2)
  })

  test('berth doctor names the running instance that breaks a strict rule, with service and rule (a warning while strict is off)', {
    timeout: 60_000,
  }, async () => {
    const doctor = expectExit(await run(['doctor', '--json']), 0, 'doctor without strict')
    const findings = doctor.json.checks.filter((c: { check: string }) => c.check === 'guardrails')
    const breach = findings.find((c: { detail: string }) => c.detail.includes(id('cap')))
    assert.ok(breach, JSON.stringify(findings))
    assert.equal(breach.status, 'warn')
    assert.match(
      breach.detail,
      new RegExp(`^${id('cap')}: service "tool" breaks cap-add: has the added capabilities .*NET_ADMIN`),
    )
    assert.ok(!findings.some((c: { detail: string }) => c.detail.includes('service "api"')), 'api keeps the rules')
    const human = expectExit(await run(['doctor']), 0, 'doctor (human)')
    assert.match(human.stdout, new RegExp(`guardrails: ${id('cap')}: service "tool" breaks cap-add`))
  })

  test('with compose.lint.strict the same file is refused at file:line with exit 2, and impl creates nothing', {
    timeout: 60_000,
  }, async () => {
    setUp(['cap_add: ["NET_ADMIN"]'], true)
    const line = lineOf(readFileSync(join(repo, 'compose.yaml'), 'utf8'), 'cap_add:')
    const result = expectExit(await run(['impl', 'cap2']), 2, 'impl cap2 in strict mode')
    assert.ok(result.stderr.includes(`compose.yaml:${line}: service "tool": cap_add: NET_ADMIN`), result.stderr)
    await assertNothingFor('cap2')
  })

  test('berth doctor fails (exit 1) for a running instance that breaks a rule strict mode demands', {
    timeout: 60_000,
  }, async () => {
    // Strict mode is on now; the instance started before it.
    const doctor = expectExit(await run(['doctor', '--json']), 1, 'doctor in strict mode')
    const breach = doctor.json.checks.find(
      (c: { check: string; detail: string }) => c.check === 'guardrails' && c.detail.includes(id('cap')),
    )
    assert.equal(breach?.status, 'fail', JSON.stringify(doctor.json.checks))
    assert.equal(doctor.json.healthy, false)
  })

  test('in strict mode a compose file that mounts /var/run/docker.sock is refused at file:line with exit 2, and impl creates nothing', {
    timeout: 60_000,
  }, async () => {
    setUp(['volumes: ["/var/run/docker.sock:/var/run/docker.sock"]'], true)
    const line = lineOf(readFileSync(join(repo, 'compose.yaml'), 'utf8'), '/var/run/docker.sock:')
    const result = expectExit(await run(['impl', 'sock', '--json']), 2, 'impl sock in strict mode')
    assert.equal(result.json.error.code, 'E_COMPOSE_LINT')
    assert.ok(
      result.json.error.message.includes(
        `compose.yaml:${line}: service "tool": volume "/var/run/docker.sock:/var/run/docker.sock" bind-mounts /var/run/docker.sock`,
      ),
      result.json.error.message,
    )
    await assertNothingFor('sock')
  })

  test('privileged: true passes lint without strict mode and is refused at file:line with exit 2 in strict mode', {
    timeout: 60_000,
  }, async () => {
    // Without strict mode lint lets it through with a warning; whether the engine can then run a
    // privileged container is the engine's business (one that runs inside a container cannot:
    // compose fails, exit 1, and the impl is rolled back).
    setUp(['privileged: true'], false)
    await git(repo, 'commit', '-q', '-am', 'a privileged tool')
    await git(repo, 'push', '-q')
    const lenient = await run(['impl', 'priv'])
    assert.notEqual(lenient.code, 2, `lint passed without strict mode\n${lenient.stderr}`)
    assert.match(lenient.stderr, /compose\.yaml:\d+: service "tool": privileged: true gives the service/)
    assert.doesNotMatch(lenient.stderr, /compose lint found/)
    setUp(['privileged: true'], true)
    const line = lineOf(readFileSync(join(repo, 'compose.yaml'), 'utf8'), 'privileged:')
    const strict = expectExit(await run(['impl', 'priv2']), 2, 'impl priv2 in strict mode')
    assert.ok(strict.stderr.includes(`compose.yaml:${line}: service "tool": privileged: true`), strict.stderr)
    await assertNothingFor('priv2')
  })
})
