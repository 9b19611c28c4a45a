/**
 * Any team's compose file, unedited: repositories whose compose files nobody wrote for berth —
 * fixed host ports (5432, 6379, 8080), container_name, named volumes with and without a fixed
 * `name:`, a network, healthchecks, an env_file, a build context, bind mounts, an override file,
 * list and map forms of environment / labels / ports, a long-form port — run many times side by
 * side through the real CLI on the real engine. The shop runs real PostgreSQL 15 and Redis 7
 * (examples/demo/images, built with no registry); the other services are busybox servers.
 *
 * Runs on the compose flavour berth picks (`BERTH_COMPOSE=v1|v2` forces one).
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { connect } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { ensureBusyboxTestImage } from '@berth/contract/testing'
import {
  berthTimed,
  buildDemoImages,
  countProjectObjects,
  engine,
  fileSize,
  hostBindings,
  inspectContainer,
  projectObjects,
  readEnvFile,
  removeProject,
  walkFiles,
} from './helpers/demo.js'
import { type BerthResult, berth, expectExit, FIXTURE_BIN, git, gitRepo, testdir } from './helpers/index.js'

const RUN = randomBytes(2).toString('hex')
const NO_OBJECTS = { containers: 0, volumes: 0, networks: 0 }
const made = new Set<string>()

/** `PING` to Redis on 127.0.0.1:port, answering its first line. */
function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.write('PING\r\n'))
    socket.setTimeout(5000, () => socket.destroy(new Error('no answer')))
    socket.once('data', (chunk) => {
      resolve(chunk.toString().trim())
      socket.end()
    })
    socket.once('error', reject)
  })
}

function sha(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex')
}

/** The shop: a stack written for `docker compose up` on one laptop, never for berth. */
function shopFiles(image: string): Record<string, string> {
  return {
    'compose.yaml': `name: shop
services:
  db:
    image: berth-real-postgres:local
    container_name: shop-db
    environment:
      POSTGRES_USER: shop
      POSTGRES_DB: shop
      POSTGRES_PASSWORD: \${DB_PASSWORD:-localdev}
    ports:
      - "5432:5432"
    volumes:
      - pgdata:/var/lib/postgresql/data
    healthcheck:
      test: ["CMD-SHELL", "pg_isready -U shop -d shop"]
      interval: 1s
      timeout: 2s
      retries: 60
  cache:
    image: berth-real-redis:local
    ports:
      - target: 6379
        published: 6379
        protocol: tcp
    volumes:
      - cachedata:/data
    networks: [backend]
  web:
    build: ./web
    env_file: ./config/web.env
    environment:
      - CACHE_URL=redis://cache:6379
    labels:
      - "com.example.team=shop"
    ports: ["8080:8080"]
    volumes:
      - ./web/static:/www:ro
    depends_on: [db, cache]
    networks: [backend, default]
  worker:
    image: ${image}
    command: ["/bin/busybox", "sleep", "3600"]
    networks: [backend]
volumes:
  pgdata:
  cachedata:
    name: shop_cache
networks:
  backend:
`,
    'compose.override.yaml': `services:
  web:
    environment:
      LOG_LEVEL: debug
    labels:
      tier: frontend
`,
    'web/Dockerfile': `FROM ${image}\nCMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    'web/static/index.html': 'shop front page\n',
    'config/web.env': 'GREETING=hello from the env_file\n',
  }
}

describe('any compose file, unedited', () => {
  const { dir, cleanup } = testdir('berth-foreign-')
  const home = join(dir, 'home')
  let image = ''
  const outputs: string[] = []
  const secret = `pw-${randomBytes(8).toString('hex')}`
  const env = { PATH: `${FIXTURE_BIN}:${process.env.PATH}`, OP_STANDIN_ITEMS: join(dir, 'op-items.json') }
  let shop = ''
  let blog = ''
  const shopProject = `shop${RUN}`
  const blogProject = `blog${RUN}`

  async function run(args: string[], cwd: string): Promise<BerthResult> {
    const result = await berth(args, { cwd, home, env, timeoutMs: 300_000 })
    outputs.push(`$ berth ${args.join(' ')}\n${result.stdout}\n${result.stderr}`)
    return result
  }

  before(async () => {
    await buildDemoImages()
    image = await ensureBusyboxTestImage()
    mkdirSync(home)
    writeFileSync(
      env.OP_STANDIN_ITEMS,
      JSON.stringify({ 'shop-dev': { db_password: { value: secret, type: 'CONCEALED' } } }),
    )
    ;({ repo: shop } = await gitRepo(join(dir, 'a'), shopProject, shopFiles(image)))
    ;({ repo: blog } = await gitRepo(join(dir, 'b'), blogProject, {
      'docker-compose.yml': `version: "3.8"
services:
  mysql:
    image: ${image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "3306", "-h", "/www"]
    ports: ["3306:3306"]
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:3306/"]
      interval: 1s
      retries: 30
  redis:
    image: ${image}
    container_name: blog-redis
    command: ["/bin/busybox", "httpd", "-f", "-p", "6379", "-h", "/www"]
    ports: ["6379:6379"]
  app:
    image: ${image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "3000", "-h", "/www"]
    ports: ["0.0.0.0:3000:3000"]
    environment: { OTEL_RESOURCE_ATTRIBUTES: "service.namespace=blog" }
`,
      // Written by hand, without a ports section: the KTRDR preset's layout names 3000; 3306 and
      // 6379 get derived ports from the slot's block.
      'berth.config.json': `${JSON.stringify({
        project: blogProject,
        secrets: { provider: 'none' },
        gate: {
          timeout: 60,
          checks: [
            { name: 'mysql', healthy: 'mysql' },
            { name: 'redis', tcp: '${REDIS_6379_PORT}' },
          ],
        },
      })}\n`,
    }))
    for (const feature of ['a', 'b', 'c', 'h']) made.add(`${shopProject}-impl-${feature}`)
    made.add(`${blogProject}-impl-x`)
  })

  after(async () => {
    for (const [repo, features] of [
      [shop, ['a', 'b', 'c']],
      [blog, ['x']],
    ] as const) {
      for (const feature of features)
        await berth(['done', feature, '--force'], { cwd: repo, home }).catch(() => undefined)
    }
    for (const project of made) await removeProject(project).catch(() => undefined)
    const images = (await engine<{ Id: string; RepoTags: string[] | null }[]>('/images/json')).filter((found) =>
      (found.RepoTags ?? []).some((tag) => tag.startsWith(shopProject)),
    )
    for (const found of images) await engine(`/images/${found.Id}?force=1`, 'DELETE').catch(() => undefined)
    cleanup()
  })

  test('setup reads the compose files and writes a config that fits them, saying what it inferred and why', async () => {
    const result = await run(['setup'], shop)
    expectExit(result, 0, 'setup')
    assert.match(result.stdout, /inferred from compose\.yaml, compose\.override\.yaml:/)
    assert.match(result.stdout, /port DB_PORT = 5432 \+ \d+×slot: db publishes host port 5432/)
    assert.match(result.stdout, /port CACHE_PORT = 6379 \+ \d+×slot/)
    assert.match(result.stdout, /slots 0\.\.10 never share a port \(checked\)/)
    assert.match(result.stdout, /gate db: db has a healthcheck: wait for the engine's healthy/)
    assert.match(result.stdout, /gate cache: cache has no healthcheck: wait until port 6379 accepts connections/)
    assert.match(result.stdout, /gate web: .*looks like HTTP/)
    assert.match(result.stdout, /worker: no published port and no healthcheck — not in the gate/)
    assert.match(result.stdout, /url: berth url .* point at WEB_PORT/)
    const config = readFileSync(join(shop, 'berth.config.ts'), 'utf8')
    assert.doesNotMatch(config, /KTRDR|api\/v1\/workers/, 'no KTRDR preset for a stack that is not KTRDR-shaped')
    assert.match(config, /compose: \{ files: \['compose\.yaml', 'compose\.override\.yaml'\] \}/)
    // The team turns secrets on, as the commented example shows.
    writeFileSync(
      join(shop, 'berth.config.ts'),
      config.replace(
        "  secrets: { provider: 'none' },",
        "  secrets: { provider: '1password', item: 'shop-dev', fields: { db_password: 'DB_PASSWORD' } },",
      ),
    )
    await git(shop, 'add', '-A')
    await git(shop, 'commit', '-q', '-m', 'berth setup')
    await git(shop, 'push', '-q')
  })

  test('three instances of the shop and one of a second repository run side by side: gates pass, every port distinct on 127.0.0.1, identity in every container, the secret only in the containers, the compose files untouched', async () => {
    const before = { compose: sha(join(shop, 'compose.yaml')), override: sha(join(shop, 'compose.override.yaml')) }
    const [a, b, c, x] = await Promise.all([
      run(['impl', 'a', '--json'], shop),
      run(['impl', 'b', '--json'], shop),
      run(['impl', 'c', '--slot', '3', '--json'], shop),
      run(['impl', 'x', '--slot', '5', '--json'], blog),
    ])
    for (const [result, what] of [
      [a, 'impl a'],
      [b, 'impl b'],
      [c, 'impl c --slot 3'],
      [x, 'impl x --slot 5 (blog)'],
    ] as const) {
      expectExit(result, 0, what)
      assert.equal(result.json.gate.passed, true, `${what}: the gate passed`)
    }
    assert.deepEqual([a.json.instance.slot, b.json.instance.slot].sort(), [1, 2])
    assert.equal(c.json.instance.slot, 3)

    const instances = [
      {
        id: `${shopProject}-impl-a`,
        path: join(dir, 'a', `${shopProject}-impl-a`),
        services: ['cache', 'db', 'web', 'worker'],
      },
      {
        id: `${shopProject}-impl-b`,
        path: join(dir, 'a', `${shopProject}-impl-b`),
        services: ['cache', 'db', 'web', 'worker'],
      },
      {
        id: `${shopProject}-impl-c`,
        path: join(dir, 'a', `${shopProject}-impl-c`),
        services: ['cache', 'db', 'web', 'worker'],
      },
      {
        id: `${blogProject}-impl-x`,
        path: join(dir, 'b', `${blogProject}-impl-x`),
        services: ['app', 'mysql', 'redis'],
      },
    ]
    const seenPorts = new Map<string, string>()
    for (const instance of instances) {
      const objects = await projectObjects(instance.id)
      assert.deepEqual(
        objects.containers.map((container) => container.Labels['com.docker.compose.service']).sort(),
        instance.services,
        `${instance.id}: every service runs`,
      )
      for (const container of objects.containers) {
        const service = container.Labels['com.docker.compose.service']
        const inspected = await inspectContainer(container.Id)
        const vars = new Map(
          (inspected.Config.Env ?? []).map((line) => [
            line.slice(0, line.indexOf('=')),
            line.slice(line.indexOf('=') + 1),
          ]),
        )
        assert.equal(vars.get('INSTANCE_ID'), instance.id, `${instance.id}/${service}: INSTANCE_ID`)
        assert.ok(
          (vars.get('OTEL_RESOURCE_ATTRIBUTES') ?? '').split(',').includes(`instance.id=${instance.id}`),
          `${instance.id}/${service}: OTEL_RESOURCE_ATTRIBUTES ${vars.get('OTEL_RESOURCE_ATTRIBUTES')}`,
        )
        assert.ok(
          vars.has('SLOT_NUMBER') && vars.has('OTEL_SERVICE_NAME'),
          `${instance.id}/${service}: SLOT_NUMBER and OTEL_SERVICE_NAME`,
        )
        assert.equal(container.Labels['berth.instance'], instance.id)
        assert.notEqual(container.Names[0], '/shop-db', 'container_name is not used')
        for (const binding of hostBindings(inspected)) {
          assert.equal(
            binding.HostIp,
            '127.0.0.1',
            `${instance.id}/${service} publishes ${binding.HostPort} on ${binding.HostIp}`,
          )
          const owner = `${instance.id}/${service}`
          const previous = seenPorts.get(binding.HostPort)
          assert.ok(previous === undefined || previous === owner, `port ${binding.HostPort}: ${owner} and ${previous}`)
          seenPorts.set(binding.HostPort, owner)
        }
        if (instance.id.startsWith(shopProject) && service === 'db') {
          assert.equal(vars.get('POSTGRES_PASSWORD'), secret, 'the secret from op reached the db container')
        }
        if (instance.id.startsWith(shopProject) && service === 'web') {
          assert.equal(vars.get('GREETING'), 'hello from the env_file', 'env_file resolved from the project folder')
          assert.equal(vars.get('LOG_LEVEL'), 'debug', 'the override file applied')
          assert.equal(vars.get('CACHE_URL'), 'redis://cache:6379')
          assert.equal(container.Labels.tier, 'frontend')
          assert.equal(container.Labels['com.example.team'], 'shop')
        }
        if (service === 'app') {
          assert.ok(
            (vars.get('OTEL_RESOURCE_ATTRIBUTES') ?? '').includes('service.namespace=blog'),
            "the service's own attributes are kept",
          )
        }
      }
      assert.ok(
        objects.volumes.every((volume) => volume.Name.startsWith(`${instance.id}_`)),
        `${instance.id}: its volumes are its own (${objects.volumes.map((v) => v.Name).join(', ')})`,
      )
      assert.ok(objects.networks.length >= 1)
    }
    assert.deepEqual(await engine(`/volumes/shop_cache`).catch((error: { status?: number }) => error.status), 404)
    assert.equal(seenPorts.size, 3 * 3 + 3, 'db, cache and web of three shops, app, mysql and redis of the blog')

    // Each instance serves its own checkout through the bind mount, on the port in its .env.sandbox.
    for (const feature of ['a', 'b', 'c']) {
      const tree = join(dir, 'a', `${shopProject}-impl-${feature}`)
      const values = readEnvFile(join(tree, '.env.sandbox'))
      assert.equal(await (await fetch(`http://127.0.0.1:${values.WEB_PORT}/`)).text(), 'shop front page\n')
      assert.equal(
        (await run(['url'], tree)).stdout.trim(),
        `http://localhost:${values.WEB_PORT}`,
        'setup pointed berth url at web',
      )
      assert.equal(
        await git(tree, 'status', '--porcelain'),
        '',
        `${feature}: the worktree is clean (its compose files untouched)`,
      )
    }
    // Each instance's own PostgreSQL takes the secret from op as its password; Redis answers PING.
    const { default: pg } = await import('pg')
    const login = async (port: string, password: string) => {
      const client = new pg.Client({ host: '127.0.0.1', port: Number(port), user: 'shop', database: 'shop', password })
      client.on('error', () => {})
      await client.connect()
      try {
        return (await client.query('select current_user as who')).rows[0]?.who
      } finally {
        await client.end().catch(() => {})
      }
    }
    for (const feature of ['a', 'b', 'c']) {
      const values = readEnvFile(join(dir, 'a', `${shopProject}-impl-${feature}`, '.env.sandbox'))
      assert.equal(await login(values.DB_PORT as string, secret), 'shop', `${feature}: PostgreSQL on ${values.DB_PORT}`)
      await assert.rejects(
        login(values.DB_PORT as string, 'localdev'),
        (error: { code?: string }) => error.code === '28P01',
      )
      assert.equal(await redisPing(Number(values.CACHE_PORT)), '+PONG')
    }
    const blogEnv = readEnvFile(join(dir, 'b', `${blogProject}-impl-x`, '.env.sandbox'))
    assert.ok(
      blogEnv.KTRDR_GRAFANA_PORT && blogEnv.MYSQL_3306_PORT && blogEnv.REDIS_6379_PORT,
      'named and derived ports in .env.sandbox',
    )

    const config = await run(['compose', 'config', '--json'], join(dir, 'a', `${shopProject}-impl-a`))
    expectExit(config, 0, 'compose config')
    assert.match(config.json.render.text, /127\.0\.0\.1:\$\{DB_PORT\}:5432/)
    assert.ok(config.json.render.warnings.some((line: string) => /container_name dropped/.test(line)))
    assert.deepEqual(
      config.json.render.sources.map((file: string) => file.split('/').pop()),
      ['compose.yaml', 'compose.override.yaml'],
    )

    // The secret is in no file under any instance or BERTH_HOME, and in no output.
    for (const root of [...instances.map((instance) => instance.path), home]) {
      for (const file of walkFiles(root)) {
        if (fileSize(file) > 50_000_000) continue
        assert.ok(!readFileSync(file).includes(secret), `${file} holds the secret`)
      }
    }
    for (const output of outputs) assert.ok(!output.includes(secret), `berth printed the secret:\n${output}`)
    assert.deepEqual(
      { compose: sha(join(shop, 'compose.yaml')), override: sha(join(shop, 'compose.override.yaml')) },
      before,
    )
  })

  test('done of each leaves no container, volume or network', async () => {
    const done = await Promise.all([
      run(['done', 'a', '--force'], shop),
      run(['done', 'b', '--force'], shop),
      run(['done', 'c', '--force'], shop),
      run(['done', 'x', '--force'], blog),
    ])
    for (const result of done) expectExit(result, 0, 'done')
    for (const id of [
      `${shopProject}-impl-a`,
      `${shopProject}-impl-b`,
      `${shopProject}-impl-c`,
      `${blogProject}-impl-x`,
    ]) {
      assert.deepEqual(await countProjectObjects(id), NO_OBJECTS, `${id} left nothing`)
    }
    for (const output of outputs) assert.ok(!output.includes(secret), `berth printed the secret:\n${output}`)
  })

  test("a service whose healthcheck never passes fails sandbox up --timeout 5 within 7 s, naming the service and its healthcheck's output", async () => {
    const { repo } = await gitRepo(join(dir, 'h'), `${shopProject}h`, {
      'compose.yaml': `services:
  db:
    image: ${image}
    command: ["/bin/busybox", "httpd", "-f", "-p", "5432", "-h", "/www"]
    ports: ["5432:5432"]
    healthcheck:
      test: ["CMD", "/bin/busybox", "sh", "-c", "echo 'FATAL: role shop does not exist'; exit 1"]
      interval: 1s
      retries: 2
`,
    })
    made.add(`${shopProject}h-impl-h`)
    expectExit(await run(['setup'], repo), 0, 'setup')
    await git(repo, 'add', '-A')
    await git(repo, 'commit', '-q', '-m', 'berth setup')
    await git(repo, 'push', '-q')
    expectExit(await run(['impl', 'h', '--no-up'], repo), 0, 'impl h --no-up')
    const tree = join(dir, 'h', `${shopProject}h-impl-h`)
    try {
      const up = await berthTimed(['sandbox', 'up', '--timeout', '5'], { cwd: tree, home, env })
      outputs.push(`$ berth sandbox up --timeout 5\n${up.stdout}\n${up.stderr}`)
      expectExit(up, 1, 'sandbox up with a healthcheck that never passes')
      // The whole command: a failed sandbox up keeps its stack for inspection, so nothing follows.
      const elapsed = up.endedAt - up.startedAt
      assert.ok(elapsed < 7000, `sandbox up failed within 7 s (took ${elapsed} ms):\n${up.stderr}`)
      assert.match(up.stderr, /gate failed: db \(service db\)/)
      assert.match(up.stderr, /is unhealthy; its healthcheck said: "FATAL: role shop does not exist"/)
      assert.match(up.stderr, /last \d+ log lines of db/, 'the report carries the service log tail')
      const running = (await projectObjects(`${shopProject}h-impl-h`)).containers.filter((c) => c.State === 'running')
      assert.ok(
        running.some((c) => c.Labels['com.docker.compose.service'] === 'db'),
        'the stack is still running for inspection',
      )
    } finally {
      expectExit(await run(['done', 'h', '--force'], repo), 0, 'done h')
    }
    assert.deepEqual(await countProjectObjects(`${shopProject}h-impl-h`), NO_OBJECTS)
  })
})
