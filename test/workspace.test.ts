/**
 * The confined workspace per instance (the `workspace` config section), end to end through the
 * real `berth` CLI on the real Docker engine: `berth run` runs commands in a container that sees
 * the instance's checkout at /workspace and no other host path, reaches the stack's services by
 * name over an `internal` network and nothing else, gets no secret the config does not name,
 * exits with the command's code and lands in the evidence bundle. A second repository whose
 * compose file declares its own `networks:` proves the workspace still reaches its service.
 *
 * Two repositories, each with its own BERTH_HOME: a copy of examples/demo (block of 100 host ports in
 * 56000-59900) with `workspace: { secrets: [DEMO_API_KEY] }`, and a two-service busybox stack on
 * networks `front`/`back`. `after` removes both instances with `berth done --force`, then anything
 * still labelled with their compose projects.
 */
import assert from 'node:assert/strict'
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { promisify } from 'node:util'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import {
  buildDemoImages,
  demoConfig,
  demoRepo,
  engine,
  readEnvFile,
  removeProject,
  serviceContainer,
} from './helpers/demo.js'
import { BERTH_BIN, berth, berthEnv, expectExit, FIXTURE_BIN, gitRepo, REPO_ROOT, testdir } from './helpers/index.js'

const execFileAsync = promisify(execFile)
const RUN = randomBytes(2).toString('hex')
const DEMO = `wsp${RUN}`
const NETS = `wsn${RUN}`
const BLOCK = 56000 + Math.floor(Math.random() * 39) * 100
const SECRETS = {
  db_password: `dbpw-${randomBytes(8).toString('hex')}`,
  redis_password: `redispw-${randomBytes(8).toString('hex')}`,
  api_key: `apikey-${randomBytes(8).toString('hex')}`,
}
const demoId = `${DEMO}-impl-a`
const netsId = `${NETS}-impl-n`
/** The files docker bind-mounts into every container besides the ones asked for. */
const DOCKER_FILES = ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']

/** A stack that names its own networks: `api` only on `back`, `web` on both, no `default`. */
function networksStack(image: string): Record<string, string> {
  const httpd = (port: number) => `["/bin/busybox", "httpd", "-f", "-p", "${port}", "-h", "/www"]`
  return {
    'compose.yaml': `services:
  api:
    image: ${image}
    command: ${httpd(8080)}
    networks: [back]
  web:
    image: ${image}
    command: ${httpd(80)}
    networks:
      front:
      back:
        aliases: [site]
networks:
  front:
  back:
`,
    'berth.config.json': `${JSON.stringify(
      {
        project: NETS,
        compose: { files: ['compose.yaml'] },
        ports: {},
        slots: { pool: [1, 2, 3] },
        gate: { timeout: 60, checks: [] },
        workspace: {},
      },
      null,
      2,
    )}\n`,
  }
}

/** The mounts whose source is a host device: what the container sees of the host's files. */
function hostMounts(procMounts: string): string[] {
  return procMounts
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length >= 3 && fields[0]!.startsWith('/'))
    .map((fields) => fields[1]!)
}

describe('the workspace container of an instance (real CLI, real engine, stand-in op)', { concurrency: 1 }, () => {
  const { dir, cleanup: removeDir } = testdir('berth-workspace-')
  const home = join(dir, 'home')
  /** The second repository's own BERTH_HOME. */
  const netsHome = join(dir, 'home-nets')
  const items = join(dir, 'op-items.json')
  const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, OP_STANDIN_ITEMS: items }
  let demoRepoDir = ''
  let netsRepoDir = ''
  // Each repository in its own folder (each has its own origin.git); instances sit beside them.
  const demoParent = join(dir, 'demo')
  const netsParent = join(dir, 'nets')
  const demoTree = join(demoParent, demoId)
  const run = (args: string[], cwd: string) =>
    berth(args, { cwd, home: cwd.startsWith(netsParent) ? netsHome : home, env, timeoutMs: 240_000 })
  let setupError: unknown

  before(
    async () => {
      try {
        await engine('/_ping')
        await buildDemoImages()
        await execFileAsync('bash', [join(REPO_ROOT, 'scripts/build-workspace-image.sh')], { timeout: 600_000 })
        const image = await ensureBusyboxTestImage()
        writeFileSync(items, JSON.stringify({ 'demo-item': SECRETS }))
        mkdirSync(demoParent)
        mkdirSync(netsParent)
        ;({ repo: demoRepoDir } = await demoRepo(demoParent, DEMO, {
          ...demoConfig(DEMO, BLOCK),
          workspace: { secrets: ['DEMO_API_KEY'] },
        }))
        ;({ repo: netsRepoDir } = await gitRepo(netsParent, NETS, networksStack(image)))
        const [a, n] = await Promise.all([
          run(['impl', 'a', '--json'], demoRepoDir),
          run(['impl', 'n', '--json'], netsRepoDir),
        ])
        expectExit(a, 0, 'impl a (demo)')
        expectExit(n, 0, 'impl n (own networks)')
      } catch (error) {
        setupError = error
      }
    },
    { timeout: 600_000 },
  )

  after(
    async () => {
      await run(['done', 'a', '--force'], demoRepoDir).catch(() => undefined)
      await run(['done', 'n', '--force'], netsRepoDir).catch(() => undefined)
      await Promise.all([demoId, netsId].map((project) => removeProject(project).catch(() => undefined)))
      removeDir()
    },
    { timeout: 180_000 },
  )

  function workspaceTest(name: string, body: () => Promise<void>): void {
    test(name, { timeout: 240_000 }, async () => {
      if (setupError) throw setupError
      await body()
    })
  }

  workspaceTest(
    'berth run shows the worktree at /workspace and no other host path: only /workspace (and the three files docker adds) is bound from the host',
    async () => {
      const result = expectExit(
        await run(['run', '--', 'sh', '-c', 'ls /workspace && cat /proc/mounts'], demoTree),
        0,
        'berth run ls + mounts',
      )
      for (const file of ['compose.yaml', 'berth.config.json', 'backend', 'worker']) {
        assert.ok(result.stdout.split('\n').includes(file), `ls /workspace lists ${file}:\n${result.stdout}`)
      }
      const binds = hostMounts(result.stdout).sort()
      assert.deepEqual(binds, ['/workspace', ...DOCKER_FILES].sort(), `host binds:\n${result.stdout}`)
      assert.doesNotMatch(result.stdout, /docker\.sock/, 'no docker socket')
      assert.doesNotMatch(result.stdout, /\s\/(root|home)(\/|\s)/, 'no home folder')
      // The engine agrees: one mount, the instance's checkout, nothing else.
      const workspace = await serviceContainer(demoId, 'workspace')
      const inspected = await engine<{
        Mounts: { Type: string; Source: string; Destination: string }[]
        HostConfig: { Privileged: boolean }
      }>(`/containers/${workspace.Id}/json`)
      assert.deepEqual(
        inspected.Mounts.map((m) => [m.Type, m.Source, m.Destination]),
        [['bind', realpathSync(demoTree), '/workspace']],
      )
      assert.equal(inspected.HostConfig.Privileged, false)
    },
  )

  workspaceTest('a request from the workspace to backend by name succeeds', async () => {
    const result = expectExit(
      await run(['run', '--', 'curl', '-fsS', '--max-time', '20', 'http://backend:8000/api/v1/health'], demoTree),
      0,
      'curl backend from the workspace',
    )
    assert.match(result.stdout, /"schema"\s*:\s*"ready"/)
  })

  workspaceTest(
    'the only network the workspace sits on is internal (read back from the engine); the stack’s services are on it and on their own',
    async () => {
      const workspace = await serviceContainer(demoId, 'workspace')
      const inspected = await engine<{ NetworkSettings: { Networks: Record<string, { NetworkID: string }> } }>(
        `/containers/${workspace.Id}/json`,
      )
      const networks = Object.keys(inspected.NetworkSettings.Networks)
      assert.deepEqual(networks, [`${demoId}_berth-workspace`])
      const network = await engine<{ Internal: boolean }>(`/networks/${networks[0]}`)
      assert.equal(network.Internal, true)
      // backend is on the default network too (its published port), the workspace only on the internal one.
      const backend = await engine<{ NetworkSettings: { Networks: Record<string, unknown> } }>(
        `/containers/${(await serviceContainer(demoId, 'backend')).Id}/json`,
      )
      assert.ok(`${demoId}_berth-workspace` in backend.NetworkSettings.Networks)
      assert.ok(`${demoId}_default` in backend.NetworkSettings.Networks)
    },
  )

  workspaceTest('berth run exits with the command’s exit code (7)', async () => {
    expectExit(await run(['run', '--', 'sh', '-c', 'exit 7'], demoTree), 7, "berth run -- sh -c 'exit 7'")
  })

  workspaceTest(
    'the workspace has the instance’s identity and the named secret, and no secret the config does not name',
    async () => {
      const result = expectExit(await run(['run', '--json', '--', 'env'], demoTree), 0, 'berth run env')
      const document = result.json.run
      assert.deepEqual(document.command, ['env'])
      assert.equal(document.exitCode, 0)
      assert.equal(typeof document.durationMs, 'number')
      const workspace = await serviceContainer(demoId, 'workspace')
      const inspected = await engine<{ Config: { Env: string[] } }>(`/containers/${workspace.Id}/json`)
      const values = Object.fromEntries(
        inspected.Config.Env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      )
      assert.equal(values.INSTANCE_ID, demoId)
      assert.equal(values.COMPOSE_PROJECT_NAME, demoId)
      assert.ok(values.SLOT_NUMBER, 'SLOT_NUMBER')
      assert.equal(values.KTRDR_API_PORT, readEnvFile(join(demoTree, '.env.sandbox')).KTRDR_API_PORT)
      assert.equal(values.DEMO_API_KEY, SECRETS.api_key, 'the named secret is there')
      assert.equal(values.DB_PASSWORD, undefined, 'DB_PASSWORD is not named: absent')
      assert.equal(values.REDIS_PASSWORD, undefined, 'REDIS_PASSWORD is not named: absent')
      for (const secret of [SECRETS.db_password, SECRETS.redis_password]) {
        assert.ok(!inspected.Config.Env.some((line) => line.includes(secret)), 'no unnamed secret value')
      }
      // What berth prints is redacted, even the named secret's value.
      assert.ok(!result.stdout.includes(SECRETS.api_key) && !result.stderr.includes(SECRETS.api_key))
      assert.ok(!document.output.includes(SECRETS.api_key))
      assert.match(document.output, /DEMO_API_KEY=/)
    },
  )

  workspaceTest('each run lands in the evidence bundle (command, exit code, duration, redacted output)', async () => {
    expectExit(await run(['evidence', '--json'], demoTree), 0, 'evidence')
    const parent = join(demoTree, '.sandbox', 'evidence')
    const bundle = join(
      parent,
      readdirSync(parent)
        .filter((name) => /^\d{8}T\d{6}Z/.test(name))
        .sort()
        .at(-1)!,
    )
    const file = join(bundle, 'workspace-runs.jsonl')
    assert.ok(existsSync(file), `${file} exists`)
    const records = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const exit7 = records.find((r) => r.command.join(' ') === 'sh -c exit 7')
    assert.equal(exit7?.exitCode, 7)
    assert.equal(exit7?.kind, 'run')
    assert.equal(typeof exit7?.durationMs, 'number')
    const envRun = records.find((r) => r.command.join(' ') === 'env')
    assert.match(envRun?.output ?? '', /DEMO_API_KEY=\*\*\*/)
    assert.ok(!readFileSync(file, 'utf8').includes(SECRETS.api_key), 'no secret value in the record')
  })

  workspaceTest(
    'no workspace in the config: berth run exits 2 naming the workspace key, and changes nothing',
    async () => {
      const file = join(demoTree, 'berth.config.json')
      const original = readFileSync(file, 'utf8')
      const { workspace: _workspace, ...without } = JSON.parse(original)
      writeFileSync(file, JSON.stringify(without))
      try {
        const result = expectExit(await run(['run', '--', 'true'], demoTree), 2, 'berth run without a workspace')
        assert.match(result.stderr, /no workspace configured/)
        assert.match(result.stderr, /"workspace": \{\}/)
      } finally {
        writeFileSync(file, original)
      }
    },
  )

  workspaceTest(
    'a compose file with its own networks: every service joins the internal network as well, and the workspace reaches them by name and by their aliases',
    async () => {
      const tree = join(netsParent, netsId)
      const result = expectExit(
        await run(
          ['run', '--', 'sh', '-c', 'curl -fsS --max-time 10 http://api:8080/ && curl -fsS --max-time 10 http://site/'],
          tree,
        ),
        0,
        'curl api and web from the workspace',
      )
      assert.equal(result.stdout, 'ok\nok\n')
      const web = await engine<{ NetworkSettings: { Networks: Record<string, unknown> } }>(
        `/containers/${(await serviceContainer(netsId, 'web')).Id}/json`,
      )
      assert.deepEqual(
        Object.keys(web.NetworkSettings.Networks).sort(),
        [`${netsId}_back`, `${netsId}_berth-workspace`, `${netsId}_front`].sort(),
        'web keeps its own networks and joins the internal one',
      )
      const config = expectExit(await run(['compose', 'config'], tree), 0, 'compose config')
      assert.match(config.stdout, /berth-workspace:\n\s+internal: true/)
    },
  )

  workspaceTest(
    'berth shell reads a script on stdin (no terminal), prints its redacted output and exits with its code',
    async () => {
      const child = spawn(process.execPath, [BERTH_BIN, 'shell'], {
        cwd: demoTree,
        env: berthEnv(home, env),
        stdio: ['pipe', 'pipe', 'pipe'],
      })
      let stdout = ''
      let stderr = ''
      child.stdout.on('data', (chunk) => (stdout += chunk))
      child.stderr.on('data', (chunk) => (stderr += chunk))
      child.stdin.end('echo "in $(pwd) key=$DEMO_API_KEY"\nexit 3\n')
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      assert.equal(code, 3, `berth shell exited ${code}\n${stdout}\n${stderr}`)
      assert.equal(stdout, 'in /workspace key=***\n')
      const records = readFileSync(join(demoTree, '.sandbox', 'workspace', 'runs.jsonl'), 'utf8')
        .trim()
        .split('\n')
      const last = JSON.parse(records.at(-1)!)
      assert.deepEqual([last.kind, last.exitCode, last.output], ['shell', 3, 'in /workspace key=***'])
    },
  )

  workspaceTest('Ctrl-C ends berth run (exit 130) and the run’s processes inside the workspace too', async () => {
    const workspace = await serviceContainer(demoId, 'workspace')
    const sleepers = async () => {
      const { stdout } = await execFileAsync('docker', [
        'exec',
        workspace.Id,
        'sh',
        '-c',
        'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline 2>/dev/null; echo; done',
      ])
      return stdout.split('\n').filter((line) => /^sleep 31[45] $/.test(line)).length
    }
    const child = spawn(process.execPath, [BERTH_BIN, 'run', '--', 'sh', '-c', 'sleep 314 & sleep 315'], {
      cwd: demoTree,
      env: berthEnv(home, env),
      stdio: 'ignore',
    })
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve))
    let running = 0
    for (let i = 0; i < 100 && running < 2; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      running = await sleepers()
    }
    assert.equal(running, 2, 'both processes of the run are up in the workspace')
    child.kill('SIGINT')
    assert.equal(await closed, 130)
    assert.equal(await sleepers(), 0, 'nothing of the run is left in the workspace')
  })

  workspaceTest('a stopped workspace of a running stack is started again by berth run', async () => {
    const workspace = await serviceContainer(demoId, 'workspace')
    await engine(`/containers/${workspace.Id}/stop?t=1`, 'POST')
    const result = expectExit(await run(['run', '--', 'true'], demoTree), 0, 'berth run after the workspace stopped')
    assert.match(result.stderr, /starting the workspace \(workspace\)/)
  })

  workspaceTest('the stack not running: berth run exits 1 (E_NOT_RUNNING) saying how to start it', async () => {
    const tree = join(netsParent, netsId)
    expectExit(await run(['sandbox', 'down'], tree), 0, 'sandbox down')
    const result = expectExit(await run(['run', '--json', '--', 'true'], tree), 1, 'berth run on a stopped stack')
    assert.equal(result.json.error.code, 'E_NOT_RUNNING')
    assert.match(result.json.error.hint, /berth sandbox up/)
  })
})
