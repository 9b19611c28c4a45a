/**
 * Regression and security checks on running stacks (the reference tool's failure modes): secrets
 * reach compose on every path that starts containers and nowhere else (no file, no argv, no
 * output), published ports are bound to 127.0.0.1 as the engine reports them, a slot re-claimed
 * after `done` starts on fresh volumes, a failed start leaves nothing behind, and `done` /
 * `destroy` refuse paths outside the worktree parent folder or the main checkout.
 * The two-service stack of ./reliability-fixtures.ts (PostgreSQL + backend; backend health needs a login).
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import {
  buildDemoImages,
  countProjectObjects,
  engine,
  fileSize,
  hostBindings,
  inspectContainer,
  projectObjects,
  removeProject,
  serviceContainer,
  walkFiles,
} from './helpers/demo.js'
import { type BerthResult, FIXTURE_BIN, git, testdir } from './helpers/index.js'
import { expectExit, ourProjects, registryFile, registryIds, relRepo, smallConfig } from './reliability-fixtures.js'

const execFileAsync = promisify(execFile)
const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }

before(
  async () => {
    await engine('/_ping') // no engine: every test fails here, none is skipped
    await buildDemoImages()
  },
  { timeout: 300_000 },
)

after(
  async () => {
    await Promise.all([...ourProjects].map((project) => removeProject(project).catch(() => undefined)))
  },
  { timeout: 120_000 },
)

/** The environment variables of a service's container, as the engine holds them. */
async function containerEnv(project: string, service: string): Promise<string[]> {
  return (await inspectContainer((await serviceContainer(project, service)).Id)).Config.Env ?? []
}

/** Every host-port binding of every container of `project` is on 127.0.0.1 (read back from the engine). */
async function assertLoopbackOnly(project: string): Promise<void> {
  const { containers } = await projectObjects(project)
  assert.ok(containers.length > 0, `${project} has containers`)
  for (const container of containers) {
    const bindings = hostBindings(await inspectContainer(container.Id))
    assert.ok(bindings.length > 0, `${container.Names[0]} publishes a port`)
    for (const binding of bindings) {
      assert.equal(
        binding.HostIp,
        '127.0.0.1',
        `${container.Names[0]} publishes ${binding.HostPort} on ${binding.HostIp}`,
      )
    }
    for (const port of container.Ports.filter((p) => p.PublicPort !== undefined)) {
      assert.equal(port.IP, '127.0.0.1', `${container.Names[0]} listens on ${port.IP}:${port.PublicPort}`)
    }
  }
}

/** Watches every process's argv (/proc/<pid>/cmdline) until stopped; collects any holding a secret. */
function watchArgv(secrets: () => string[], sawCompose: (argv: string) => boolean) {
  let running = true
  const hits: string[] = []
  let composeSeen = 0
  const done = (async () => {
    while (running) {
      for (const pid of readdirSync('/proc')) {
        if (!/^\d+$/.test(pid)) continue
        let argv: string
        try {
          argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
        } catch {
          continue
        }
        if (sawCompose(argv)) composeSeen++
        if (secrets().some((s) => argv.includes(s))) hits.push(`${pid}: ${argv}`)
      }
      await new Promise((r) => setTimeout(r, 20))
    }
  })()
  return {
    async stop() {
      running = false
      await done
      return { hits, composeSeen }
    },
  }
}

describe('reliability on running stacks', { concurrency: true }, () => {
  test('secrets reach compose up on impl, sandbox up and local-prod up and nowhere else; ports bind 127.0.0.1; a re-claimed slot starts on fresh volumes', {
    timeout: 300_000,
  }, async (t) => {
    const secret = () => `s3cr3t-${randomBytes(8).toString('hex')}`
    const values = { pw1: secret(), key1: secret(), pw2: secret(), key2: secret(), pwProd: secret(), keyProd: secret() }
    const secrets = Object.values(values)
    const rel = await relRepo('secrets', {
      config: (project, block) =>
        smallConfig(project, block, {
          secrets: {
            provider: '1password',
            item: 'rel-item',
            localProdItem: 'rel-prod-item',
            fields: { api_key: 'DEMO_API_KEY', db_password: 'DB_PASSWORD' },
            defaults: { DB_PASSWORD: 'localdev', DEMO_API_KEY: 'insecure' },
          },
        }),
    })
    t.after(() => rel.cleanup())
    const itemsFile = join(rel.dir, 'op-items.json')
    const items = (pw: string, key: string) => ({
      api_key: { value: key, type: 'CONCEALED' },
      db_password: { value: pw, type: 'CONCEALED' },
    })
    const writeItems = (pw: string, key: string) =>
      writeFileSync(
        itemsFile,
        JSON.stringify({ 'rel-item': items(pw, key), 'rel-prod-item': items(values.pwProd, values.keyProd) }),
      )
    writeItems(values.pw1, values.key1)
    const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, OP_STANDIN_ITEMS: itemsFile }
    const outputs: string[] = []
    const run = async (args: string[], cwd?: string): Promise<BerthResult> => {
      const result = await rel.run(args, { cwd, env })
      outputs.push(`$ berth ${args.join(' ')}\n${result.stdout}\n${result.stderr}`)
      return result
    }
    const watcher = watchArgv(
      () => secrets,
      (argv) => argv.includes('compose') && argv.includes(rel.project),
    )
    const clone = join(rel.dir, `${rel.project}-prod`)
    const prodId = `${rel.project}-prod`
    ourProjects.add(prodId)

    try {
      await Promise.all([
        // The worktree paths: impl, then a new instance on the released slot, then sandbox up.
        (async () => {
          const a = rel.id('a')
          const implA = expectExit(await run(['impl', 'a', '--json']), 0, 'impl a')
          assert.equal(implA.json.instance.slot, 1)
          assert.equal(implA.json.secrets.source, 'op')
          const envA = await containerEnv(a, 'backend')
          assert.ok(envA.includes(`DB_PASSWORD=${values.pw1}`), 'impl: backend has DB_PASSWORD from op')
          assert.ok(envA.includes(`DEMO_API_KEY=${values.key1}`), 'impl: backend has DEMO_API_KEY from op')
          await assertLoopbackOnly(a)
          expectExit(await run(['done', 'a', '--force']), 0, 'done a')
          assert.deepEqual(await countProjectObjects(a), NO_OBJECTS)

          // The password changes; b gets slot 1 back. Its backend must AUTH against a db that
          // was initialised with the new password (the gate checks /api/v1/health, which does).
          writeItems(values.pw2, values.key2)
          const b = rel.id('b')
          const implB = expectExit(await run(['impl', 'b', '--json']), 0, 'impl b on the re-claimed slot')
          assert.equal(implB.json.instance.slot, 1, 'b has the slot a released')
          assert.equal(implB.json.gate.passed, true)
          const volumes = (await projectObjects(b)).volumes.map((v) => v.Name)
          assert.deepEqual(volumes, [`${b}_dbdata`], 'b has its own volume')
          assert.ok((await containerEnv(b, 'backend')).includes(`DB_PASSWORD=${values.pw2}`))

          expectExit(await run(['sandbox', 'down'], rel.tree('b')), 0, 'sandbox down')
          expectExit(await run(['sandbox', 'up'], rel.tree('b')), 0, 'sandbox up')
          const envB = await containerEnv(b, 'backend')
          assert.ok(envB.includes(`DB_PASSWORD=${values.pw2}`), 'sandbox up: backend has DB_PASSWORD from op')
          assert.ok(envB.includes(`DEMO_API_KEY=${values.key2}`), 'sandbox up: backend has DEMO_API_KEY from op')
          await assertLoopbackOnly(b)
          for (const args of [
            ['sandbox', 'status', '--json'],
            ['sandbox', 'list'],
            ['sandbox', 'logs', '--tail', '50'],
            ['gate', '--json'],
          ]) {
            expectExit(await run(args, rel.tree('b')), 0, args.join(' '))
          }
        })(),
        // The clone path: local-prod up (slot 0, its own 1Password item).
        (async () => {
          await execFileAsync('git', ['clone', '-q', join(rel.dir, 'origin.git'), clone])
          expectExit(await run(['local-prod', 'init'], clone), 0, 'local-prod init')
          expectExit(await run(['local-prod', 'up', '--json'], clone), 0, 'local-prod up')
          const envProd = await containerEnv(prodId, 'backend')
          assert.ok(envProd.includes(`DB_PASSWORD=${values.pwProd}`), 'local-prod up: DB_PASSWORD from op')
          assert.ok(envProd.includes(`DEMO_API_KEY=${values.keyProd}`), 'local-prod up: DEMO_API_KEY from op')
          await assertLoopbackOnly(prodId)
        })(),
      ])
    } finally {
      const { hits, composeSeen } = await watcher.stop()
      assert.deepEqual(hits, [], 'no process had a secret value in its argv')
      assert.ok(composeSeen > 0, "the watcher saw compose's processes, so it was looking")
    }

    for (const root of [rel.tree('b'), clone, rel.repo, rel.home]) {
      for (const file of walkFiles(root)) {
        if (fileSize(file) > 50_000_000) continue
        const content = readFileSync(file)
        for (const value of secrets) assert.ok(!content.includes(value), `${file} holds a secret value`)
      }
    }
    expectExit(await run(['local-prod', 'destroy'], clone), 0, 'local-prod destroy')
    expectExit(await run(['done', 'b', '--force']), 0, 'done b')
    for (const output of outputs) {
      for (const value of secrets) assert.ok(!output.includes(value), `berth printed a secret value:\n${output}`)
    }
  })

  test('a failed start (docker cannot publish a port) leaves no container, volume or network, no claim and no worktree', {
    timeout: 180_000,
  }, async (t) => {
    const rel = await relRepo('failstart', { extraCompose: true })
    t.after(() => rel.cleanup())
    const port = rel.block + 99
    const holder = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${port}, '127.0.0.1', () => console.log('ready'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    t.after(() => holder.kill())
    await new Promise<void>((resolve) => holder.stdout.once('data', () => resolve()))
    const id = rel.id('f')
    const impl = await rel.run(['impl', 'f'], { env: { REL_EXTRA_PORT: String(port) } })
    expectExit(impl, 1, 'impl f with a port docker cannot bind')
    assert.match(impl.stderr, /compose up of .* failed/)
    assert.deepEqual(await countProjectObjects(id), NO_OBJECTS, `nothing labelled ${id} remains`)
    assert.deepEqual(registryIds(rel.home), [], 'no claim')
    assert.equal(existsSync(rel.tree('f')), false, 'no worktree folder')
    assert.equal((await git(rel.repo, 'branch', '--list', 'impl/f')).trim(), '', 'no branch')
  })

  test('done and destroy refuse a registered path outside the worktree parent folder, a symlink leading out, or the main checkout — even with --force — and delete nothing', {
    timeout: 180_000,
  }, async (t) => {
    const rel = await relRepo('paths')
    t.after(() => rel.cleanup())
    const outside = testdir('berth-rel-outside-')
    t.after(outside.cleanup)
    expectExit(await rel.run(['impl', 'e', '--no-up']), 0, 'impl e --no-up')
    assert.equal(statSync(rel.home).mode & 0o777, 0o700, 'BERTH_HOME is 0700')
    assert.equal(statSync(registryFile(rel.home)).mode & 0o777, 0o600, 'registry.json is 0600')

    const foreignClone = join(outside.dir, 'clone')
    await execFileAsync('git', ['clone', '-q', join(rel.dir, 'origin.git'), foreignClone])
    const link = join(rel.dir, `${rel.project}-impl-link`)
    symlinkSync(foreignClone, link)
    const setPath = (path: string) => {
      const registry = JSON.parse(readFileSync(registryFile(rel.home), 'utf8'))
      registry.instances[0].path = path
      writeFileSync(registryFile(rel.home), JSON.stringify(registry, null, 2))
    }
    for (const [path, reason] of [
      [foreignClone, /it is not inside the worktree parent folder/],
      [link, /it is not inside the worktree parent folder .*\(it resolves to /],
      [rel.repo, /it is the main checkout of the repository/],
    ] as const) {
      setPath(path)
      const result = await rel.run(['done', 'e', '--force', '--json'])
      expectExit(result, 3, `done e registered at ${path}`)
      assert.equal(result.json.error.code, 'E_UNSAFE_PATH')
      assert.match(result.json.error.message, reason)
      assert.ok(existsSync(join(path, '.git')), `${path} is untouched`)
    }
    assert.deepEqual(registryIds(rel.home), [rel.id('e')], 'the instance stays registered')

    // The main checkout registered as a sandbox: destroy acts on the registered path and refuses.
    setPath(rel.tree('e'))
    expectExit(await rel.run(['sandbox', 'init', '--name', 'main-sandbox']), 0, 'sandbox init in the main checkout')
    const destroy = await rel.run(['sandbox', 'destroy', '--force', '--json'])
    expectExit(destroy, 3, 'sandbox destroy of the main checkout')
    assert.equal(destroy.json.error.code, 'E_UNSAFE_PATH')
    assert.ok(
      existsSync(join(rel.repo, '.git')) && existsSync(join(rel.repo, 'compose.yaml')),
      'the main checkout stays',
    )
  })
})
