import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { OperationError, type TaskContext, UsageError } from '@berth/contract'
import { engineRequest, listComposeContainers } from '@berth/engine'
import { composePlugin, composeProjectName, projectResources, projectStatus, sweepProject } from '../src/index.js'
import { type ContextInput, makeContext, makeInstance } from './helpers/context.js'
import {
  type CommandLineWatch,
  ensureTestImage,
  filesContaining,
  freePort,
  TWO_SERVICE_COMPOSE,
  uniqueProject,
  watchCommandLines,
} from './helpers/engine.js'

const captured = { stdout: '', stderr: '' }
/** Records what `compose.logs` streams instead of writing to the terminal. */
function recorder(stream: 'stdout' | 'stderr') {
  return {
    write(text: string | Uint8Array): boolean {
      captured[stream] += String(text)
      return true
    },
  }
}
const plugin = composePlugin({ logsOutput: { stdout: recorder('stdout'), stderr: recorder('stderr') } })
const steps = plugin.steps

async function waitForHttp(url: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const response = await fetch(url)
      return await response.text()
    } catch (error) {
      if (Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

function assertNothingLeft(resources: Awaited<ReturnType<typeof projectResources>>, project: string): void {
  const names = [
    ...resources.containers.map((c) => c.Names[0]),
    ...resources.volumes.map((v) => v.Name),
    ...resources.networks.map((n) => n.Name),
  ]
  assert.deepEqual(names, [], `resources still labelled with ${project}`)
}

describe('compose lifecycle against the real Docker engine (the detected compose flavour)', () => {
  const base = uniqueProject('composetest')
  const ids = { a: `${base}-a`, b: `${base}-b`, c: `${base}-c`, d: `${base}-d`, fail: `${base}-fail` }
  const secret = `sekrit-${randomBytes(8).toString('hex')}`
  const ports = { a: 0, b: 0 }
  let root: string
  let ctxA: TaskContext
  let ctxB: TaskContext
  let upWatch: CommandLineWatch

  const contextFor = (id: string, port: number, extra: Partial<ContextInput> = {}) =>
    makeContext({
      root,
      project: base,
      instance: makeInstance(id, root),
      env: { INSTANCE_ID: id, COMPOSE_PROJECT_NAME: id, SLOT_NUMBER: '1', TEST_PORT: String(port) },
      secretEnv: { TEST_SECRET: secret },
      ...extra,
    })

  before(async () => {
    await ensureTestImage()
    root = mkdtempSync(join(tmpdir(), 'berth-compose-lifecycle-'))
    writeFileSync(join(root, 'docker-compose.yml'), TWO_SERVICE_COMPOSE)
    ports.a = await freePort()
    do ports.b = await freePort()
    while (ports.b === ports.a)
    ctxA = contextFor(ids.a, ports.a)
    ctxB = contextFor(ids.b, ports.b)
  })

  after(async () => {
    upWatch?.stop()
    for (const id of Object.values(ids)) await sweepProject(composeProjectName(id)).catch(() => {})
    if (root) rmSync(root, { recursive: true, force: true })
  })

  test('up starts two instances of one compose file side by side, each on its own port', async () => {
    upWatch = watchCommandLines(secret)
    await Promise.all([steps.up.run(ctxA), steps.up.run(ctxB)])
    upWatch.stop()
    assert.equal(await waitForHttp(`http://127.0.0.1:${ports.a}/`), 'ok\n')
    assert.equal(await waitForHttp(`http://127.0.0.1:${ports.b}/`), 'ok\n')
    const containers = await listComposeContainers()
    for (const id of [ids.a, ids.b]) {
      const status = projectStatus(containers, composeProjectName(id))
      assert.equal(status.state, 'running', id)
      assert.deepEqual(
        status.containers.map((c) => c.service),
        ['sleeper', 'web'],
      )
    }
  })

  test('secrets reach the containers through compose’s environment, never its argv or the disk', async () => {
    assert.ok(upWatch.composeSeen.length > 0, 'the argv watch saw docker-compose run')
    assert.deepEqual(upWatch.hits, [])
    for (const argv of upWatch.composeSeen) assert.ok(!argv.includes(secret))
    const [web] = projectStatus(await listComposeContainers(), composeProjectName(ids.a)).containers.filter(
      (c) => c.service === 'web',
    )
    const inspected = await engineRequest<{ Config: { Env: string[] } }>(`/containers/${web?.name}/json`)
    assert.ok(inspected.Config.Env.includes(`TEST_SECRET=${secret}`))
    assert.deepEqual(filesContaining(root, secret), [])
  })

  test('compose.status reports the instance’s services with their 127.0.0.1 ports from one request', async () => {
    const ctx = contextFor(ids.a, ports.a)
    await steps.status.run(ctx)
    assert.equal(ctx.output.state, 'running')
    const containers = ctx.output.containers as { service: string; state: string; ports: unknown[] }[]
    assert.deepEqual(
      containers.map((c) => [c.service, c.state, c.ports]),
      [
        ['sleeper', 'running', []],
        ['web', 'running', [{ host: ports.a, hostIp: '127.0.0.1', container: 8080 }]],
      ],
    )
  })

  test('logs stream redacted lines, and serviceLogs returns a redacted tail', async () => {
    const ctx = contextFor(ids.a, ports.a, { positionals: ['web'], flags: { tail: '20' } })
    await steps.logs.run(ctx)
    assert.match(captured.stdout, /token=\*\*\*/)
    assert.ok(!captured.stdout.includes(secret))
    const services = plugin.services(ctx)
    const tail = await services.serviceLogs!(['web'], 5)
    assert.match(tail, /token=\*\*\*/)
    assert.ok(!tail.includes(secret))
  })

  test('compose.list reports registered instances and an unregistered look-alike project as an orphan', async () => {
    const ctx = makeContext({
      root,
      project: base,
      services: { listInstances: async () => [makeInstance(ids.a, root)] },
    })
    await steps.list.run(ctx)
    const output = ctx.output.compose as {
      instances: Record<string, { state: string; running: number; total: number }>
      orphans: { project: string; containers: number; volumes: string[] }[]
    }
    assert.deepEqual(output.instances[ids.a], {
      project: composeProjectName(ids.a),
      state: 'running',
      running: 2,
      total: 2,
      services: ['sleeper', 'web'],
    })
    const orphan = output.orphans.find((o) => o.project === composeProjectName(ids.b))
    assert.deepEqual(orphan && { containers: orphan.containers, volumes: orphan.volumes }, {
      containers: 2,
      volumes: [`${composeProjectName(ids.b)}_data`],
    })
    assert.ok(ctx.logs.some((log) => log.level === 'warn' && log.message.includes(composeProjectName(ids.b))))
  })

  test('destroy leaves no container, volume or network labelled with the instance’s project', async () => {
    await steps.destroy.run(ctxA)
    assertNothingLeft(await projectResources(composeProjectName(ids.a)), ids.a)
    assert.equal(projectStatus(await listComposeContainers(), composeProjectName(ids.b)).state, 'running')
  })

  test('destroy is idempotent, even once the checkout is gone', async () => {
    await steps.destroy.run(contextFor(ids.a, ports.a))
    const gone = makeContext({ root, project: base, instance: makeInstance(ids.a, join(root, 'removed-worktree')) })
    await steps.destroy.run(gone)
    assertNothingLeft(await projectResources(composeProjectName(ids.a)), ids.a)
    const status = contextFor(ids.a, ports.a)
    await steps.status.run(status)
    assert.equal(status.output.state, 'absent')
  })

  test('undoing up removes the project it created with its volumes and networks', async () => {
    await steps.up.undo?.(ctxB)
    assertNothingLeft(await projectResources(composeProjectName(ids.b)), ids.b)
  })

  test('a failed up rolls back everything it created and fails with exit 1', async () => {
    const port = await freePort()
    const holder: Server = createServer()
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve))
    try {
      const ctx = contextFor(ids.fail, port)
      await assert.rejects(
        async () => steps.up.run(ctx),
        (error: unknown) => {
          assert.ok(error instanceof OperationError, String(error))
          assert.equal(error.exitCode, 1)
          assert.match(error.message, new RegExp(`compose up of ${ids.fail} failed`))
          assert.ok(!error.message.includes(secret))
          return true
        },
      )
      assertNothingLeft(await projectResources(composeProjectName(ids.fail)), ids.fail)
    } finally {
      await new Promise((resolve) => holder.close(resolve))
    }
  })

  test('down keeps the data unless --volumes, and undoing a restart keeps it too', async () => {
    const port = await freePort()
    const project = composeProjectName(ids.c)
    await steps.up.run(contextFor(ids.c, port))
    await steps.down.run(contextFor(ids.c, port))
    let left = await projectResources(project)
    assert.deepEqual([left.containers.length, left.volumes.map((v) => v.Name)], [0, [`${project}_data`]])

    const restart = contextFor(ids.c, port)
    await steps.up.run(restart)
    assert.deepEqual(restart.state.compose, { project, existedBefore: true, volumesBefore: [`${project}_data`] })
    await steps.up.undo?.(restart)
    left = await projectResources(project)
    assert.deepEqual([left.containers.length, left.volumes.map((v) => v.Name)], [0, [`${project}_data`]])

    await steps.down.run(contextFor(ids.c, port, { flags: { volumes: true } }))
    assertNothingLeft(await projectResources(project), ids.c)
  })

  test('destroy still removes everything through the engine API when compose itself is missing', async () => {
    const port = await freePort()
    await steps.up.run(contextFor(ids.d, port))
    const saved = process.env.BERTH_COMPOSE
    process.env.BERTH_COMPOSE = 'v2'
    try {
      await steps.destroy.run(contextFor(ids.d, port))
    } finally {
      if (saved === undefined) delete process.env.BERTH_COMPOSE
      else process.env.BERTH_COMPOSE = saved
    }
    assertNothingLeft(await projectResources(composeProjectName(ids.d)), ids.d)
  })

  test('diagnose reports the compose flavour and no orphans for an unknown project', async () => {
    const plugin = composePlugin()
    const ctx = makeContext({ root, project: base, services: { listInstances: async () => [] } })
    const found = await plugin.diagnose!(ctx)
    const compose = found.find((d) => d.check === 'compose')
    assert.equal(compose?.status, 'ok')
    assert.match(compose?.detail ?? '', /\((v1|v2)\)$/)
    assert.ok(found.some((d) => d.check.startsWith('orphan')))
  })

  test('up refuses a compose file that does not exist, before touching anything', async () => {
    const ctx = contextFor(ids.c, 1, { compose: { files: ['missing.yml'] } })
    await assert.rejects(
      async () => steps.up.run(ctx),
      (error: unknown) => error instanceof UsageError && /missing\.yml/.test(error.message),
    )
    assert.equal(ctx.state.compose, undefined)
  })
})
