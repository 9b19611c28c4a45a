import assert from 'node:assert/strict'
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import {
  ConflictError,
  type Logger,
  Redactor,
  type ResolvedConfig,
  type TaskContext,
  type TaskRequest,
} from '@berth/contract'
import { findPortHolders, portsConfigSchema, portsPlugin, probePort } from '../src/index.js'

const run = promisify(execFile)
const suffix = Math.random().toString(36).slice(2, 8)
const cleanups: (() => Promise<unknown> | unknown)[] = []
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup()
})

/** `count` distinct ports in this file's range (41500-41999) that are free right now. */
async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>()
  while (ports.size < count) {
    const port = 41500 + Math.floor(Math.random() * 500)
    if (!ports.has(port) && (await probePort(port))) ports.add(port)
  }
  return [...ports]
}

/** A real node process listening on 127.0.0.1:port; resolves once it listens. */
function nodeServer(port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('listening'))`],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  cleanups.push(() => child.kill('SIGKILL'))
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)))
    child.stdout!.once('data', () => resolve(child))
  })
}

function context(layout: unknown, slot: number | null, id = `ports-test-${suffix}`): TaskContext {
  const silent: Logger = { info() {}, warn() {}, debug() {} }
  const config: ResolvedConfig = {
    project: 'ports-test',
    root: tmpdir(),
    file: null,
    sections: { ports: portsConfigSchema.parse(layout) },
  }
  const request: TaskRequest = {}
  return {
    task: 'test',
    cwd: tmpdir(),
    home: tmpdir(),
    config,
    args: { positionals: [], flags: {} },
    flags: {},
    settings: undefined,
    exitCode: 0,
    log: silent,
    redactor: new Redactor(),
    services: {},
    signal: new AbortController().signal,
    request,
    instance: {
      id,
      project: 'ports-test',
      kind: 'sandbox',
      slot,
      path: tmpdir(),
      repo: tmpdir(),
      createdByBerth: false,
      createdAt: new Date().toISOString(),
    },
    env: {},
    secretEnv: {},
    output: {},
    state: {},
  }
}

describe('findPortHolders', () => {
  test('names the pid and command of a process listening on the port', async () => {
    const [port] = (await freePorts(1)) as [number]
    const server = await nodeServer(port)
    const [holder] = await findPortHolders([port])
    assert.equal(holder?.port, port)
    assert.equal(holder?.pid, server.pid)
    assert.match(holder?.command ?? '', /createServer\(\)\.listen/)
    assert.match(holder?.description ?? '', new RegExp(`^pid ${server.pid} \\(`))
  })

  test('answers one holder per port asked, in order, and nothing for no ports', async () => {
    const [held, free] = (await freePorts(2)) as [number, number]
    await nodeServer(held)
    const holders = await findPortHolders([free, held])
    assert.deepEqual(
      holders.map((h) => h.port),
      [free, held],
    )
    assert.match(holders[0]!.description, /unknown holder/)
    assert.deepEqual(await findPortHolders([]), [])
  })
})

describe('findPortHolders with the Docker engine', () => {
  const image = `berth-ports-test:${suffix}`
  const project = `ports-test-${suffix}`
  const container = `berth-ports-test-${suffix}`
  let port = 0

  before(async () => {
    // No registry here: a one-binary image FROM scratch around the static busybox.
    const context = mkdtempSync(join(tmpdir(), 'berth-ports-image-'))
    cleanups.push(() => rmSync(context, { recursive: true, force: true }))
    copyFileSync('/bin/busybox', join(context, 'busybox'))
    writeFileSync(
      join(context, 'Dockerfile'),
      'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox"]\nCMD ["sleep", "600"]\n',
    )
    await run('docker', ['build', '-q', '-t', image, context])
    cleanups.push(() => run('docker', ['rmi', '-f', image]).catch(() => {}))
    // Its own bridge network: the engine's default bridge is not guaranteed to exist.
    await run('docker', ['network', 'create', container])
    cleanups.push(() => run('docker', ['network', 'rm', container]).catch(() => {}))
    ;[port] = (await freePorts(1)) as [number]
    cleanups.push(() => run('docker', ['rm', '-f', container]).catch(() => {}))
    await run('docker', [
      'run',
      '-d',
      '--name',
      container,
      '--network',
      container,
      '--label',
      `com.docker.compose.project=${project}`,
      '-p',
      `127.0.0.1:${port}:8080`,
      image,
    ])
  })

  test('names the container and compose project publishing the port', async () => {
    const [holder] = await findPortHolders([port])
    assert.equal(holder?.container, container)
    assert.equal(holder?.project, project)
    assert.equal(holder?.description, `container ${container} (compose project ${project})`)
  })

  test("ports.check ignores ports published by the instance's own compose project", async () => {
    const ctx = context({ OWN_PORT: { base: port - 1 } }, 1, project)
    await portsPlugin().steps.check!.run(ctx)
    assert.deepEqual(ctx.output.ports, { OWN_PORT: port })
  })
})

describe('ports.check step', () => {
  test("sets ctx.ports and ctx.output.ports to the slot's ports when all are free", async () => {
    const [port] = (await freePorts(1)) as [number]
    const ctx = context({ API_PORT: { base: port - 3 } }, 3)
    await portsPlugin().steps.check!.run(ctx)
    assert.deepEqual(ctx.ports, { API_PORT: port })
    assert.deepEqual(ctx.output.ports, { API_PORT: port })
  })

  test('fails with a conflict (exit 3) naming the variable, port and holder pid', async () => {
    const [port] = (await freePorts(1)) as [number]
    const server = await nodeServer(port)
    const ctx = context({ API_PORT: { base: port - 2 } }, 2)
    await assert.rejects(
      async () => portsPlugin().steps.check!.run(ctx),
      (error: unknown) => {
        assert.ok(error instanceof ConflictError)
        assert.equal(error.exitCode, 3)
        assert.equal(error.code, 'E_PORT_TAKEN')
        assert.match(error.message, new RegExp(`slot 2: API_PORT ${port} held by pid ${server.pid} `))
        assert.ok(error.hint)
        return true
      },
    )
  })

  test('does nothing for an instance without a slot (a spec worktree)', async () => {
    const ctx = context({ API_PORT: { base: 41000 } }, null)
    await portsPlugin().steps.check!.run(ctx)
    assert.equal(ctx.ports, undefined)
    assert.deepEqual(ctx.output, {})
  })

  test('offers slotPorts and probeSlot as services', async () => {
    const [port] = (await freePorts(1)) as [number]
    const server = await nodeServer(port)
    const ctx = context({ API_PORT: { base: port - 4 } }, 4)
    const services = await portsPlugin().services!(ctx)
    assert.deepEqual(services.slotPorts?.(4), { API_PORT: port })
    const holders = await services.probeSlot!(4)
    assert.equal(holders[0]?.pid, server.pid)
  })
})
