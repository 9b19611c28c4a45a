import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import type { PublishedHostPorts } from '@berth/contract'
import { ensureBusyboxTestImage, makeTestInstance } from '@berth/contract/testing'
import {
  composeConfigSchema,
  describeCompose,
  formatRendered,
  loadComposeModel,
  parseComposeText,
  parsePortEntry,
  type RenderOptions,
  renderInstanceCompose,
  renderModel,
} from '../src/index.js'
import { assertWorkspaceImage } from '../src/steps/render.js'
import { makeContext } from './helpers/context.js'

/** A stand-in for the ports plugin's naming: 5432 is the layout's DB_PORT, every other port derived. */
function nameHostPorts(published: PublishedHostPorts[]): string[][] {
  return published.map((entry) =>
    entry.ports.map((port) => (port === 5432 ? 'DB_PORT' : `${entry.service.toUpperCase()}_${port}_PORT`)),
  )
}

function options(extra: Partial<RenderOptions> = {}): RenderOptions {
  return {
    project: 'shop',
    hostIp: '127.0.0.1',
    instanceVariables: new Set([
      'INSTANCE_ID',
      'SLOT_NUMBER',
      'DB_PORT',
      'API_PORT',
      'CACHE_6379_PORT',
      'WEB_8080_PORT',
    ]),
    variables: {},
    nameHostPorts,
    envFileTelemetry: () => ({}),
    ...extra,
  }
}

describe('the compose model', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'berth-model-')))
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('merges override files as compose does: maps by key, ports and mounts by binding, commands replaced', () => {
    writeFileSync(
      join(dir, 'compose.yaml'),
      `x-env: &env
  A: "1"
services:
  api:
    image: api
    command: ["serve"]
    environment:
      <<: *env
      B: two
    labels: ["team=core"]
    ports: ["8000:8000"]
    volumes: ["./src:/app/src", "data:/data"]
    depends_on: [db]
  db:
    image: postgres
volumes:
  data: {}
`,
    )
    mkdirSync(join(dir, 'deploy'), { recursive: true })
    writeFileSync(
      join(dir, 'deploy/override.yaml'),
      `services:
  api:
    command: ["serve", "--debug"]
    environment: ["B=three", "C"]
    labels: { tier: web }
    ports: ["8000:8000", "9229:9229"]
    volumes: ["./other:/app/src"]
    depends_on: [cache]
  cache:
    image: redis
volumes:
  data:
    driver: local
`,
    )
    const model = loadComposeModel([join(dir, 'compose.yaml'), join(dir, 'deploy/override.yaml')])
    assert.equal(model.projectDir, dir)
    const api = model.services.api as Record<string, unknown>
    assert.deepEqual(api.command, ['serve', '--debug'])
    assert.deepEqual(api.environment, { A: '1', B: 'three', C: null })
    assert.deepEqual(api.labels, { team: 'core', tier: 'web' })
    assert.deepEqual(api.ports, ['8000:8000', '9229:9229'])
    assert.deepEqual(api.volumes, ['./other:/app/src', 'data:/data'])
    assert.deepEqual(api.depends_on, ['db', 'cache'])
    assert.deepEqual(Object.keys(model.services), ['api', 'db', 'cache'])
    assert.deepEqual(model.doc.volumes, { data: { driver: 'local' } })
  })

  test("resolves extends from the same file and from another folder's file, rebasing that file's relative paths", () => {
    mkdirSync(join(dir, 'shared'), { recursive: true })
    writeFileSync(
      join(dir, 'shared/base.yaml'),
      `services:
  worker-base:
    build: ./worker
    env_file: worker.env
    volumes: ["./cache:/cache"]
    environment: { ROLE: worker }
    depends_on: [db]
`,
    )
    writeFileSync(
      join(dir, 'extends.yaml'),
      `services:
  base:
    image: app
    environment: { LEVEL: info }
  web:
    extends: base
    environment: { LEVEL: debug }
  worker:
    extends: { file: shared/base.yaml, service: worker-base }
    environment: { QUEUE: jobs }
`,
    )
    const model = loadComposeModel([join(dir, 'extends.yaml')])
    assert.deepEqual(model.services.web, { image: 'app', environment: { LEVEL: 'debug' } })
    const worker = model.services.worker as Record<string, unknown>
    assert.deepEqual(worker.build, { context: './shared/worker' })
    assert.deepEqual(worker.env_file, ['./shared/worker.env'])
    assert.deepEqual(worker.volumes, ['./shared/cache:/cache'])
    assert.deepEqual(worker.environment, { ROLE: 'worker', QUEUE: 'jobs' })
    assert.equal(worker.depends_on, undefined, 'extends never inherits depends_on')
  })

  test("setup's reading: each port in file order, a variable's value from its default, else from the project's .env", () => {
    const sub = join(dir, 'described')
    mkdirSync(sub, { recursive: true })
    writeFileSync(join(sub, '.env'), 'WEB_PORT=8088\n')
    writeFileSync(
      join(sub, 'compose.yaml'),
      `services:
  web:
    image: web
    ports: ["9000-9001:9000-9001", "\${WEB_PORT}:80", "\${ADMIN_PORT:-8081}:81", "\${NOWHERE}:82"]
`,
    )
    const web = describeCompose([join(sub, 'compose.yaml')]).services.find((s) => s.name === 'web')
    assert.deepEqual(web?.fixed, [{ ports: [9000, 9001], target: '9000-9001', index: 0 }])
    assert.deepEqual(web?.parameterised, [
      { variable: 'WEB_PORT', default: 8088, defaultFrom: '.env', target: '80', index: 1 },
      { variable: 'ADMIN_PORT', default: 8081, defaultFrom: 'default', target: '81', index: 2 },
      { variable: 'NOWHERE', default: undefined, defaultFrom: undefined, target: '82', index: 3 },
    ])
  })

  test('an invalid file is a usage error naming the file and line', () => {
    assert.throws(
      () => parseComposeText('services:\n  api:\n    image: [unclosed\n', 'compose.yaml'),
      (error: Error & { exitCode?: number }) =>
        error.exitCode === 2 && /^compose\.yaml:\d+: invalid YAML/.test(error.message),
    )
  })

  test('reads short and long port syntax with variables and IPv6 hosts kept whole', () => {
    assert.deepEqual(parsePortEntry('127.0.0.1:${P:-5432}:5432/udp'), {
      hostIp: '127.0.0.1',
      published: '${P:-5432}',
      target: '5432',
      protocol: 'udp',
      extra: {},
    })
    assert.equal(parsePortEntry('[::1]:8080:80')?.hostIp, '::1')
    assert.equal(parsePortEntry(80)?.published, undefined)
    assert.deepEqual(parsePortEntry({ target: 80, published: '8080', mode: 'host' })?.extra, { mode: 'host' })
  })
})

describe('rendering', () => {
  const model = () =>
    ({
      files: ['/src/shop/compose.yaml'],
      projectDir: '/src/shop',
      doc: {},
      services: {},
    }) as ReturnType<typeof loadComposeModel>

  function render(text: string, extra: Partial<RenderOptions> = {}) {
    const doc = parseComposeText(text, 'compose.yaml')
    const m = { ...model(), doc, services: doc.services as Record<string, Record<string, unknown>> }
    return renderModel(m, options(extra))
  }

  test("maps every fixed host port to the instance's variable on 127.0.0.1, keeps per-instance ones, and leaves random ones random", () => {
    const result = render(`services:
  db:
    image: db
    ports: ["5432:5432", "0.0.0.0:\${API_PORT}:8000", "9000"]
  cache:
    image: cache
    ports:
      - target: 6379
        published: 6379
  web:
    image: web
    ports:
      - "\${WEB_PORT:-8080}:8080"
      - target: 80
        published: "8443"
        mode: host
`)
    const services = result.doc.services as Record<string, { ports: unknown[] }>
    assert.deepEqual(services.db?.ports, ['127.0.0.1:${DB_PORT}:5432', '127.0.0.1:${API_PORT}:8000', '127.0.0.1::9000'])
    assert.deepEqual(services.cache?.ports, ['127.0.0.1:${CACHE_6379_PORT}:6379'])
    assert.deepEqual(services.web?.ports?.[0], '127.0.0.1:${WEB_8080_PORT}:8080')
    // A long-form entry with keys the short syntax cannot say stays long (no instance port: random).
    assert.deepEqual(services.web?.ports?.[1], { target: 80, host_ip: '127.0.0.1', mode: 'host' })
    assert.match(
      result.warnings.join('\n'),
      /service "web": host port 8443 has no port in this instance's claim \(WEB_8443_PORT/,
    )
    assert.deepEqual(
      result.ports.map((port) => port.variables),
      [['DB_PORT'], ['API_PORT'], [], ['CACHE_6379_PORT'], ['WEB_8080_PORT'], []],
    )
  })

  test('a published port from a variable neither .env nor the layout sets is left for compose to resolve (a ${X:?msg} still refuses), with a warning naming it', () => {
    const result = render(`services:
  api:
    image: api
    ports: ["\${API_HOST_PORT:?set API_HOST_PORT in .env}:8000", "\${SIDE_PORT}:8001", "\${EMPTY_PORT:-}:8002"]
`)
    const services = result.doc.services as Record<string, { ports: unknown[] }>
    assert.deepEqual(services.api?.ports, [
      '127.0.0.1:${API_HOST_PORT:?set API_HOST_PORT in .env}:8000',
      '127.0.0.1:${SIDE_PORT}:8001',
      '127.0.0.1:${EMPTY_PORT:-}:8002',
    ])
    const warned = result.warnings.filter((line) => line.includes('in neither .env nor the config'))
    assert.equal(warned.length, 3, result.warnings.join('\n'))
    assert.match(
      warned[0] ?? '',
      /service "api": published port "\$\{API_HOST_PORT:\?set API_HOST_PORT in \.env\}": API_HOST_PORT is in neither/,
    )
    assert.match(warned[1] ?? '', /SIDE_PORT is in neither/)
  })

  test('a host-port range keeps its variables consecutive', () => {
    const result = render(
      `services:
  ftp:
    image: ftp
    ports: ["21000-21002:21000-21002"]
`,
      { instanceVariables: new Set(['FTP_21000_PORT', 'FTP_21001_PORT', 'FTP_21002_PORT']) },
    )
    assert.deepEqual((result.doc.services as Record<string, { ports: unknown[] }>).ftp?.ports, [
      '127.0.0.1:${FTP_21000_PORT}-${FTP_21002_PORT}:21000-21002',
    ])
  })

  test('drops container_name with one warning line and fixed volume and network names; keeps external ones and says so', () => {
    const result = render(`services:
  db:
    image: db
    container_name: shop-db
  cache:
    image: cache
    container_name: shop-cache
volumes:
  pgdata:
    name: shop_pgdata
  perinstance:
    name: \${INSTANCE_ID}-data
  shared:
    external: true
networks:
  edge:
    name: edge
`)
    const services = result.doc.services as Record<string, Record<string, unknown>>
    assert.equal(services.db?.container_name, undefined)
    assert.equal(services.cache?.container_name, undefined)
    const dropped = result.warnings.filter((line) => line.includes('container_name'))
    assert.equal(dropped.length, 1)
    assert.match(dropped[0] ?? '', /db \(shop-db\), cache \(shop-cache\)/)
    assert.deepEqual(result.doc.volumes, {
      pgdata: {},
      perinstance: { name: '${INSTANCE_ID}-data' },
      shared: { external: true },
    })
    assert.deepEqual(result.doc.networks, { edge: {} })
    assert.ok(result.warnings.some((line) => /volume "shared" is external/.test(line)))
  })

  test('a dropped container_name stays a network alias on the networks the instance owns, so services that address it by that name still reach it', () => {
    const result = render(`services:
  db:
    image: db
    container_name: shop-postgres
  cache:
    image: cache
    container_name: shop-cache
    networks: [backend, shared]
  api:
    image: api
    container_name: shop-api
    networks:
      backend:
        aliases: [api.local]
  sidecar:
    image: sidecar
    container_name: shop-sidecar
    network_mode: service:api
networks:
  backend:
  shared:
    external: true
`)
    const services = result.doc.services as Record<string, Record<string, unknown>>
    assert.deepEqual(services.db?.networks, { default: { aliases: ['shop-postgres'] } })
    assert.deepEqual(
      services.cache?.networks,
      { backend: { aliases: ['shop-cache'] }, shared: null },
      'never on an external network, which every instance shares',
    )
    assert.deepEqual(services.api?.networks, { backend: { aliases: ['api.local', 'shop-api'] } })
    assert.equal(services.sidecar?.networks, undefined, 'a service with network_mode joins no network')
    assert.equal(services.sidecar?.container_name, undefined)
    assert.ok(
      result.changes.some((c) => c.subject === 'service "db"' && /kept as a network alias/.test(c.change)),
      JSON.stringify(result.changes),
    )
  })

  test('an image the files build is shared with a warning, tagged per instance with instanceImages, and shared silently when it is false', () => {
    const text = `services:
  web:
    build: ./web
    image: myapp-web:dev
  worker:
    image: myapp-web:dev
  tool:
    build: ./tool
    image: registry.local:5000/tool
  db:
    image: postgres:15
`
    const shared = render(text)
    const servicesOf = (result: ReturnType<typeof render>) =>
      result.doc.services as Record<string, Record<string, unknown>>
    assert.equal(servicesOf(shared).web?.image, 'myapp-web:dev')
    const warned = shared.warnings.filter((line) => line.includes('shared by every instance'))
    assert.deepEqual(
      warned.map((line) => line.split(' ')[1]),
      ['myapp-web:dev', 'registry.local:5000/tool'],
      'one warning per built image, none for an image nothing builds',
    )

    const own = render(text, { instanceImages: true })
    assert.equal(servicesOf(own).web?.image, 'myapp-web:dev-${INSTANCE_ID}')
    assert.equal(
      servicesOf(own).worker?.image,
      'myapp-web:dev-${INSTANCE_ID}',
      'a service running the built image follows it',
    )
    assert.equal(servicesOf(own).tool?.image, 'registry.local:5000/tool:latest-${INSTANCE_ID}')
    assert.equal(servicesOf(own).db?.image, 'postgres:15')
    assert.equal(own.warnings.filter((line) => line.includes('shared by every instance')).length, 0)

    const silent = render(text, { instanceImages: false })
    assert.equal(servicesOf(silent).web?.image, 'myapp-web:dev')
    assert.equal(silent.warnings.filter((line) => line.includes('shared by every instance')).length, 0)
  })

  test('gives every service the identity — also one that lists no environment — merging its own telemetry attributes', () => {
    const result = render(
      `services:
  bare:
    image: bare
  listed:
    image: listed
    environment:
      - OTEL_RESOURCE_ATTRIBUTES=service.version=1.2,instance.id=wrong
      - OTEL_SERVICE_NAME=custom
    labels: ["team=core"]
  passthrough:
    image: p
    environment:
      OTEL_RESOURCE_ATTRIBUTES: \${OTEL_RESOURCE_ATTRIBUTES:-}
  fromfile:
    image: f
    env_file: app.env
`,
      {
        envFileTelemetry: (name) =>
          name === 'fromfile' ? { resourceAttributes: 'team=$ops', serviceName: 'from-file' } : {},
      },
    )
    const services = result.doc.services as Record<
      string,
      { environment: Record<string, unknown>; labels: Record<string, unknown> }
    >
    assert.deepEqual(services.bare?.environment, {
      INSTANCE_ID: '${INSTANCE_ID}',
      SLOT_NUMBER: '${SLOT_NUMBER}',
      OTEL_RESOURCE_ATTRIBUTES: '${OTEL_RESOURCE_ATTRIBUTES}',
      OTEL_SERVICE_NAME: 'bare',
    })
    assert.deepEqual(services.bare?.labels, {
      'berth.instance': '${INSTANCE_ID}',
      'berth.slot': '${SLOT_NUMBER}',
      'berth.project': 'shop',
    })
    assert.equal(
      services.listed?.environment.OTEL_RESOURCE_ATTRIBUTES,
      '${OTEL_RESOURCE_ATTRIBUTES},service.version=1.2',
    )
    assert.equal(services.listed?.environment.OTEL_SERVICE_NAME, 'custom')
    assert.equal(services.listed?.labels.team, 'core')
    assert.equal(services.passthrough?.environment.OTEL_RESOURCE_ATTRIBUTES, '${OTEL_RESOURCE_ATTRIBUTES:-}')
    assert.equal(services.fromfile?.environment.OTEL_RESOURCE_ATTRIBUTES, '${OTEL_RESOURCE_ATTRIBUTES},team=$$ops')
    assert.equal(services.fromfile?.environment.OTEL_SERVICE_NAME, undefined, 'its env_file names the service')
  })

  test('keeps every ${VAR} as written, so no value of the environment or .env is ever in the file', () => {
    const result = render(
      `services:
  api:
    image: api
    environment:
      DB_PASSWORD: \${DB_PASSWORD}
      TOKEN: \${TOKEN:-dev}
    ports: ["\${API_PORT}:8000"]
`,
      { variables: { DB_PASSWORD: 's3cret-value', TOKEN: 'tok-value' } },
    )
    const text = formatRendered(result.doc, ['test'])
    assert.match(text, /DB_PASSWORD: \$\{DB_PASSWORD\}/)
    assert.match(text, /TOKEN: \$\{TOKEN:-dev\}/)
    assert.doesNotMatch(text, /s3cret-value|tok-value/)
  })

  test('writes YAML that Compose v1 (YAML 1.1) reads as the user meant: "22:22" and yes stay strings', () => {
    const result = render(`services:
  ssh:
    image: ssh
    environment: { ENABLED: "yes" }
    ports: ["127.0.0.1:\${API_PORT}:22"]
`)
    const text = formatRendered(result.doc, [])
    assert.match(text, /ENABLED: "yes"/)
    assert.match(text, /- 127\.0\.0\.1:\$\{API_PORT\}:22/)
  })
})

describe('renderInstanceCompose', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'berth-render-instance-')))
  const home = join(dir, 'home')
  before(() => {
    mkdirSync(join(dir, 'shop/config'), { recursive: true })
    writeFileSync(
      join(dir, 'shop/compose.yaml'),
      'services:\n  db:\n    image: db\n    env_file: config/db.env\n    ports: ["5432:5432"]\n',
    )
    writeFileSync(join(dir, 'shop/config/db.env'), 'OTEL_RESOURCE_ATTRIBUTES=team=data\n')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('writes .sandbox/compose.yaml, reuses the render while nothing changed and renders again when an env_file does', async () => {
    const instance = makeTestInstance('shop-impl-a', join(dir, 'shop'), { slot: 1 })
    const ctx = makeContext({
      root: join(dir, 'shop'),
      instance,
      env: { INSTANCE_ID: 'shop-impl-a', SLOT_NUMBER: '1', DB_PORT: '5442' },
      services: { nameHostPorts },
    })
    const config = composeConfigSchema.parse({})
    const files = [join(dir, 'shop/compose.yaml')]
    const first = await renderInstanceCompose({ ...ctx, home }, instance, files, config)
    assert.equal(first.file, join(dir, 'shop/.sandbox/compose.yaml'))
    assert.equal(first.cached, false)
    assert.equal(readFileSync(first.file, 'utf8'), first.text)
    assert.match(first.text, /OTEL_RESOURCE_ATTRIBUTES: \$\{OTEL_RESOURCE_ATTRIBUTES\},team=data/)
    const second = await renderInstanceCompose({ ...ctx, home }, instance, files, config)
    assert.equal(second.cached, true)
    writeFileSync(join(dir, 'shop/config/db.env'), 'OTEL_RESOURCE_ATTRIBUTES=team=platform\n')
    const third = await renderInstanceCompose({ ...ctx, home }, instance, files, config)
    assert.equal(third.cached, false)
    assert.match(readFileSync(third.file, 'utf8'), /team=platform/)
  })
})

describe('the rendered file under Compose v1 and v2', () => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'berth-render-flavours-')))
  const home = join(dir, 'home')
  const shop = join(dir, 'shop')
  before(() => {
    mkdirSync(join(shop, 'config'), { recursive: true })
    mkdirSync(join(shop, 'deploy'), { recursive: true })
    mkdirSync(join(shop, 'app'), { recursive: true })
    writeFileSync(join(shop, 'app/Dockerfile'), 'FROM scratch\n')
    writeFileSync(join(shop, 'config/app.env'), 'FROM_ENV_FILE=yes-it-is\n')
    writeFileSync(join(shop, '.env'), 'APP_TAG=from-dot-env\n')
    writeFileSync(
      join(shop, 'compose.yaml'),
      `services:
  app:
    build: ./app
    image: shop-app:\${APP_TAG}
    container_name: shop-app
    env_file: ./config/app.env
    ports: ["5432:5432"]
    volumes: ["./data:/data", "pgdata:/var/lib/db"]
volumes:
  pgdata:
    name: shop_pgdata
`,
    )
    writeFileSync(
      join(shop, 'deploy/override.yaml'),
      `services:
  app:
    volumes: ["./logs:/logs"]
    ports: ["6379:6379"]
`,
    )
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  for (const flavourName of ['v1', 'v2'] as const) {
    test(`Compose ${flavourName} resolves the rendered file's build context, env_file and bind mounts as it resolves the user's files`, async () => {
      const { detectComposeFlavour } = await import('../src/index.js')
      const flavour = await detectComposeFlavour({ env: { ...process.env, BERTH_COMPOSE: flavourName }, refresh: true })
      const files = [join(shop, 'compose.yaml'), join(shop, 'deploy/override.yaml')]
      const instance = makeTestInstance('shop-impl-a', shop, { slot: 1 })
      const ctx = makeContext({
        root: shop,
        instance,
        env: { INSTANCE_ID: 'shop-impl-a', SLOT_NUMBER: '1', DB_PORT: '5442', APP_6379_PORT: '30000' },
        services: {
          nameHostPorts: (published) =>
            published.map((entry) => entry.ports.map((port) => (port === 5432 ? 'DB_PORT' : `APP_${port}_PORT`))),
        },
      })
      const render = await renderInstanceCompose({ ...ctx, home }, instance, files, composeConfigSchema.parse({}))
      const { execFile } = await import('node:child_process')
      const run = (args: string[]) =>
        new Promise<string>((resolvePromise, reject) =>
          execFile(
            flavour.command[0] as string,
            [...flavour.command.slice(1), ...args, 'config'],
            { cwd: dir, env: { ...process.env, ...ctx.env, OTEL_RESOURCE_ATTRIBUTES: 'instance.id=shop-impl-a' } },
            (error, stdout, stderr) =>
              error ? reject(new Error(`${error.message}\n${stderr}`)) : resolvePromise(stdout),
          ),
        )
      const original = await run(['-p', 'shop-impl-a', ...files.flatMap((file) => ['-f', file])])
      const rendered = await run(['-p', 'shop-impl-a', '-f', render.file, '--project-directory', render.projectDir])
      const paths = (text: string) => [...new Set(text.match(new RegExp(`${shop}[^\\s'":,]*`, 'g')) ?? [])].sort()
      assert.deepEqual(paths(rendered), paths(original))
      assert.ok(paths(rendered).includes(join(shop, 'app')), 'the build context')
      assert.ok(
        paths(rendered).includes(join(shop, 'logs')),
        "the override file's bind mount, from the project directory",
      )
      assert.match(rendered, /FROM_ENV_FILE: '?"?yes-it-is/)
      assert.match(rendered, /shop-app:from-dot-env/, "the project's .env still interpolates the file")
      assert.doesNotMatch(rendered, /container_name/)
      assert.match(rendered, /127\.0\.0\.1:5442:5432|host_ip: 127\.0\.0\.1\n\s+target: 5432\n\s+published: "5442"/)
      assert.doesNotMatch(rendered, /shop_pgdata/)
    })
  }
})

describe('rendering the workspace (the workspace section)', () => {
  const workspace = {
    service: 'workspace',
    image: 'berth-workspace:local',
    checkout: '/src/shop-impl-a',
    user: '1000:1000',
    variables: ['INSTANCE_ID', 'API_PORT', 'DB_PASSWORD'],
    allow: [] as string[],
  }
  function render(text: string, extra: Partial<RenderOptions['workspace']> = {}) {
    const doc = parseComposeText(text, 'compose.yaml')
    const model = {
      files: ['/src/shop/compose.yaml'],
      projectDir: '/src/shop',
      doc,
      services: doc.services as Record<string, Record<string, unknown>>,
    } as ReturnType<typeof loadComposeModel>
    return renderModel(model, options({ workspace: { ...workspace, ...extra } }))
  }
  const services = (doc: Record<string, unknown>) => doc.services as Record<string, Record<string, unknown>>

  test('adds an internal network every service joins (keeping default), and the workspace on it alone with the checkout as its only mount', () => {
    const { doc } = render('services:\n  api:\n    image: api\n  db:\n    image: db\n')
    assert.deepEqual((doc.networks as Record<string, unknown>)['berth-workspace'], {
      internal: true,
      labels: { 'berth.workspace': 'true' },
    })
    assert.deepEqual(services(doc).api!.networks, ['default', 'berth-workspace'])
    assert.deepEqual(services(doc).db!.networks, ['default', 'berth-workspace'])
    const ws = services(doc).workspace!
    assert.deepEqual(ws.volumes, ['/src/shop-impl-a:/workspace'])
    assert.deepEqual(ws.networks, ['berth-workspace'])
    assert.equal(ws.user, '1000:1000')
    assert.equal(ws.image, 'berth-workspace:local')
    assert.equal(ws.privileged, undefined)
    const environment = ws.environment as Record<string, string>
    assert.equal(environment.API_PORT, '${API_PORT}', 'references only: no value in the file')
    assert.equal(environment.DB_PASSWORD, '${DB_PASSWORD}')
    assert.equal(environment.INSTANCE_ID, '${INSTANCE_ID}')
    assert.equal((ws.labels as Record<string, string>)['berth.instance'], '${INSTANCE_ID}')
  })

  test("a service's own networks are kept and the internal one added (with its aliases); network_mode services are left alone", () => {
    const { doc, warnings } = render(`services:
  web:
    image: web
    networks:
      front:
      back:
        aliases: [site]
  api:
    image: api
    networks: [back]
  sidecar:
    image: s
    network_mode: "service:api"
  host:
    image: h
    network_mode: host
networks:
  front:
  back:
`)
    assert.deepEqual(services(doc).web!.networks, {
      front: null,
      back: { aliases: ['site'] },
      'berth-workspace': { aliases: ['site'] },
    })
    assert.deepEqual(services(doc).api!.networks, ['back', 'berth-workspace'])
    assert.equal(services(doc).sidecar!.networks, undefined)
    assert.equal(services(doc).host!.networks, undefined)
    assert.ok(warnings.some((w) => /service "host" has network_mode host: the workspace cannot reach it/.test(w)))
  })

  test('allow-listed networks are joined too; one the files do not have, a taken service name or a Dockerfile are handled', () => {
    const text = 'services:\n  api:\n    image: api\nnetworks:\n  egress:\n'
    assert.deepEqual(services(render(text, { allow: ['egress', 'default'] }).doc).workspace!.networks, [
      'berth-workspace',
      'egress',
      'default',
    ])
    assert.throws(() => render(text, { allow: ['lan'] }), /workspace.allow names network "lan"/)
    assert.throws(() => render(text, { service: 'api' }), /already have a service "api"/)
    const built = services(render(text, { dockerfile: '/src/shop-impl-a/tools/Dockerfile' }).doc).workspace!
    assert.deepEqual(built.build, { context: '/src/shop-impl-a/tools', dockerfile: 'Dockerfile' })
  })
})

describe('the workspace image check before the stack starts', () => {
  test("berth's default image missing from the engine is an environment error (exit 4) naming the script that builds it; a present one passes", async () => {
    await assert.rejects(
      () => assertWorkspaceImage(`berth-workspace-missing-${process.pid}:local`, true),
      (error: Error & { exitCode?: number; hint?: string }) =>
        error.exitCode === 4 &&
        /is not built/.test(error.message) &&
        /build-workspace-image\.sh/.test(error.hint ?? ''),
    )
    await assertWorkspaceImage(await ensureBusyboxTestImage(), true)
    await assertWorkspaceImage(`someone/else-${process.pid}:1`) // not berth's: left to compose (a registry may have it)
  })
})
