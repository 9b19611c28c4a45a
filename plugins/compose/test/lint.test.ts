import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { UsageError } from '@berth/contract'
import {
  composePlugin,
  interpolate,
  lintComposeFiles,
  normaliseHostPath,
  parsePortSpec,
  sensitiveMount,
  splitOutside,
  variesPerInstance,
} from '../src/index.js'
import { makeContext } from './helpers/context.js'

const CLEAN = `services:
  api:
    image: demo
    ports:
      - "127.0.0.1:\${API_PORT}:8000"
      - "127.0.0.1:\${DB_PORT:-5432}:5432"
    volumes:
      - ./src:/app/src
      - \${DATA_DIR:-./data}:/data
      - dbdata:/var/lib/db
volumes:
  dbdata: {}
`

const BROKEN = `services:
  api:
    image: demo
    container_name: demo-api
    ports:
      - "8000:8000"
  db:
    image: db
    ports:
      - "0.0.0.0:\${DB_PORT}:5432"
    volumes:
      - /:/host
      - \${HOME}:/home/me
      - type: bind
        source: "~"
        target: /root
volumes:
  shared:
    external: true
networks:
  edge:
    name: edge
`

describe('compose lint', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-compose-lint-'))
    writeFileSync(join(dir, 'clean.yaml'), CLEAN)
    writeFileSync(join(dir, 'broken.yaml'), BROKEN)
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  test('accepts a compose file whose ports come from slot variables on 127.0.0.1', () => {
    const report = lintComposeFiles([join(dir, 'clean.yaml')], { instanceVariables: ['API_PORT', 'DB_PORT'] })
    assert.deepEqual(report, { errors: [], warnings: [] })
  })

  test('rejects container_name and a fixed host port naming file, line and service', () => {
    const report = lintComposeFiles([join(dir, 'broken.yaml')], { cwd: dir })
    const texts = report.errors.map((problem) => problem.text)
    assert.ok(
      texts.some((t) => t.startsWith('broken.yaml:4: service "api": container_name "demo-api"')),
      texts.join('\n'),
    )
    assert.ok(
      texts.some((t) =>
        t.startsWith('broken.yaml:6: service "api": port "8000:8000" publishes the fixed host port 8000'),
      ),
    )
  })

  test('rejects external volumes, fixed network names, ports on all interfaces and mounts of / and the home directory', () => {
    const report = lintComposeFiles([join(dir, 'broken.yaml')], { cwd: dir, instanceVariables: ['DB_PORT'] })
    const found = report.errors.map((p) => `${p.line} ${p.subject} ${p.rule}`)
    assert.deepEqual(found.sort(), [
      '10 service "db" port-all-interfaces',
      '12 service "db" host-root-mount',
      '13 service "db" sensitive-mount',
      '14 service "db" sensitive-mount',
      '19 volume "shared" shared-resource',
      '22 network "edge" shared-resource',
      '4 service "api" container-name',
      '6 service "api" fixed-host-port',
      '6 service "api" port-all-interfaces',
    ])
    assert.match(report.errors.find((e) => e.line === 10)?.text ?? '', /published on 0\.0\.0\.0/)
  })

  test('exempts the services, shared resources and mounts the config allows by name', () => {
    const report = lintComposeFiles([join(dir, 'broken.yaml')], {
      instanceVariables: ['DB_PORT'],
      allowFixedPorts: ['api'],
      allowShared: ['shared', 'edge'],
      allowAllInterfaces: ['api', 'db'],
      allowMounts: ['${HOME}', '~'],
      home: '/home/tester',
    })
    assert.deepEqual(report.errors.map((p) => p.rule).sort(), ['container-name', 'host-root-mount'])
  })

  test('follows YAML anchors and merge keys to the line where the value is written', () => {
    const file = join(dir, 'anchors.yaml')
    writeFileSync(
      file,
      'x-base: &base\n  container_name: fixed\nservices:\n  worker:\n    <<: *base\n    image: demo\n',
    )
    const report = lintComposeFiles([file], { cwd: dir })
    assert.equal(report.errors.length, 1)
    assert.match(report.errors[0]?.text ?? '', /^anchors\.yaml:2: service "worker": container_name "fixed"/)
  })

  test('reports invalid YAML and unreadable files as errors, not crashes', () => {
    const file = join(dir, 'invalid.yaml')
    writeFileSync(file, 'services:\n  api:\n    image: [unclosed\n')
    const report = lintComposeFiles([file, join(dir, 'missing.yaml')], { cwd: dir })
    assert.deepEqual(
      report.errors.map((p) => p.rule),
      ['yaml-syntax', 'unreadable-file'],
    )
    assert.match(report.errors[1]?.text ?? '', /^missing\.yaml: cannot read the compose file \(ENOENT\)/)
  })

  test('compose.lint throws a usage error listing every problem and records warnings in the output', async () => {
    writeFileSync(join(dir, 'docker-compose.yml'), BROKEN)
    const ctx = makeContext({ root: dir, compose: { render: { enabled: false } } })
    const step = composePlugin().steps.lint
    await assert.rejects(
      async () => step.run(ctx),
      (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.exitCode, 2)
        assert.match(error.message, /9 problems/)
        assert.match(error.message, /docker-compose\.yml:4: service "api": container_name/)
        return true
      },
    )
    const lint = ctx.output.lint as { errors: unknown[]; warnings: unknown[] }
    assert.equal(lint.errors.length, 9)
    assert.equal(lint.warnings.length, 0)
  })

  test('with rendering on, lint judges what will run: fixed ports, container_name and fixed names pass, host networking and broad mounts fail, external resources warn', async () => {
    writeFileSync(join(dir, 'docker-compose.yml'), `${BROKEN.replace('  db:\n', '  db:\n    network_mode: host\n')}`)
    const ctx = makeContext({ root: dir })
    const step = composePlugin().steps.lint
    await assert.rejects(
      async () => step.run(ctx),
      (error: unknown) => error instanceof UsageError && /4 problems/.test(error.message),
    )
    const lint = ctx.output.lint as { errors: { rule: string }[]; warnings: { rule: string }[] }
    assert.deepEqual(
      lint.errors.map((problem) => problem.rule),
      ['host-network', 'host-root-mount', 'sensitive-mount', 'sensitive-mount'],
    )
    assert.deepEqual(
      lint.warnings.map((problem) => problem.rule),
      ['shared-resource'],
    )
  })

  test('lint.strict makes privileged, cap_add and host namespaces errors at file:line (rendering rebinds all-interface ports to 127.0.0.1)', async () => {
    const text = `services:
  agent:
    image: agent
    privileged: true
    pid: host
    cap_add: [SYS_ADMIN]
    ports: ["0.0.0.0:\${AGENT_PORT:-8080}:80"]
`
    writeFileSync(join(dir, 'strict.yaml'), text)
    const step = composePlugin().steps.lint
    const strict = makeContext({ root: dir, compose: { files: ['strict.yaml'], lint: { strict: true } } })
    await assert.rejects(async () => step.run(strict), /strict\.yaml:4/)
    const report = strict.output.lint as { errors: { rule: string; line: number }[]; warnings: unknown[] }
    assert.deepEqual(report.errors.map((p) => p.rule).sort(), ['cap-add', 'host-namespace', 'privileged'])
    assert.equal(report.errors.find((p) => p.rule === 'privileged')?.line, 4)
    const allowed = makeContext({
      root: dir,
      compose: { files: ['strict.yaml'], lint: { strict: true, allowHostAccess: ['agent'] } },
    })
    await step.run(allowed)
  })

  test('privileged, cap_add and host namespaces warn unless the service is in allowHostAccess; the docker socket needs allowMounts', async () => {
    const text = `services:
  agent:
    image: agent
    privileged: true
    pid: host
    cap_add: [SYS_ADMIN]
    volumes: ["/var/run/docker.sock:/var/run/docker.sock"]
`
    writeFileSync(join(dir, 'host-access.yaml'), text)
    const step = composePlugin().steps.lint
    const plain = makeContext({ root: dir, compose: { files: ['host-access.yaml'] } })
    await assert.rejects(async () => step.run(plain), /docker\.sock/)
    const report = plain.output.lint as { errors: { rule: string }[]; warnings: { rule: string }[] }
    assert.deepEqual(
      report.errors.map((p) => p.rule),
      ['sensitive-mount'],
    )
    assert.deepEqual(report.warnings.map((p) => p.rule).sort(), ['cap-add', 'host-namespace', 'privileged'])
    const allowed = makeContext({
      root: dir,
      compose: {
        files: ['host-access.yaml'],
        lint: { allowHostAccess: ['agent'], allowMounts: ['/var/run/docker.sock'] },
      },
    })
    await step.run(allowed)
    assert.deepEqual(allowed.output.lint, { errors: [], warnings: [] })
  })

  test('compose.lint passes a clean file and can be switched off', async () => {
    const step = composePlugin().steps.lint
    const clean = makeContext({
      root: dir,
      compose: { files: ['clean.yaml'] },
      services: { slotPorts: () => ({ API_PORT: 8001, DB_PORT: 5433 }) },
    })
    await step.run(clean)
    assert.deepEqual(clean.output.lint, { errors: [], warnings: [] })
    const off = makeContext({ root: dir, compose: { files: ['broken.yaml'], lint: { enabled: false } } })
    await step.run(off)
    assert.deepEqual(off.output.lint, { errors: [], warnings: [], skipped: true })
  })
})

describe('compose lint resolves what compose will resolve', () => {
  let dir: string
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'berth-compose-guard-'))
  })
  after(() => rmSync(dir, { recursive: true, force: true }))
  const lint = (name: string, text: string, options: Parameters<typeof lintComposeFiles>[1] = {}) => {
    writeFileSync(join(dir, name), text)
    return lintComposeFiles([join(dir, name)], { cwd: dir, home: '/home/tester', ...options })
  }
  const rules = (report: ReturnType<typeof lintComposeFiles>, severity: 'errors' | 'warnings' = 'errors') =>
    report[severity].map((p) => `${p.line} ${p.rule}`)

  test('a volume named ${SHARED:-fixed} is shared (an error) unless its variable differs per instance', () => {
    const text = `volumes:
  data:
    name: \${SHARED_VOL:-acme-shared}
  mine:
    name: \${COMPOSE_PROJECT_NAME}_mine
  plain:
    name: \${PLAIN_NAME}
networks:
  edge:
    name: edge-\${SLOT_NUMBER:-0}
`
    const report = lint('names.yaml', text)
    assert.deepEqual(rules(report), ['3 shared-resource', '7 shared-resource'])
    assert.match(report.errors[0]?.text ?? '', /name: "acme-shared" \(what "\$\{SHARED_VOL:-acme-shared\}" resolves to/)
    // set in the environment, the same value for every instance: still shared
    assert.deepEqual(rules(lint('names.yaml', text, { variables: { SHARED_VOL: 'x', PLAIN_NAME: 'y' } })), [
      '3 shared-resource',
      '7 shared-resource',
    ])
    // a per-instance variable (say a layout variable) makes it per-instance
    assert.deepEqual(rules(lint('names.yaml', text, { instanceVariables: ['SHARED_VOL', 'PLAIN_NAME'] })), [])
    assert.deepEqual(rules(lint('names.yaml', text, { allowShared: ['data', 'plain'] })), [])
  })

  test('a ${VAR:-8000} port is fixed unless VAR is per-instance; an unset variable without a default means a random port', () => {
    const text = `services:
  api:
    image: x
    ports:
      - "127.0.0.1:\${API_PORT:-8000}:8000"
      - "127.0.0.1:\${OTHER_PORT:-9000}:9000"
      - "127.0.0.1:\${UNSET_PORT}:7000"
      - target: 6000
        published: \${LONG_PORT:-6000}
        host_ip: \${BIND_IP:-127.0.0.1}
`
    assert.deepEqual(rules(lint('ports.yaml', text, { instanceVariables: ['API_PORT'] })), [
      '6 fixed-host-port',
      '8 fixed-host-port',
    ])
    assert.deepEqual(
      rules(lint('ports.yaml', text, { instanceVariables: ['API_PORT', 'OTHER_PORT', 'LONG_PORT'] })),
      [],
    )
    // BIND_IP set to every interface in the environment: compose publishes there, lint says so
    assert.deepEqual(
      rules(
        lint('ports.yaml', text, {
          instanceVariables: ['API_PORT', 'OTHER_PORT', 'LONG_PORT'],
          variables: { BIND_IP: '0.0.0.0' },
        }),
      ),
      ['8 port-all-interfaces'],
    )
  })

  test('ports on all interfaces are errors (a random host port too) unless the service is allowed', () => {
    const text = `services:
  web:
    image: x
    ports:
      - "8080"
      - "\${WEB_PORT}:80"
      - "[::]:\${WEB_PORT}:81"
`
    const report = lint('iface.yaml', text, { instanceVariables: ['WEB_PORT'] })
    assert.deepEqual(rules(report), ['5 port-all-interfaces', '6 port-all-interfaces', '7 port-all-interfaces'])
    assert.match(report.errors[1]?.text ?? '', /127\.0\.0\.1:/)
    assert.deepEqual(
      rules(lint('iface.yaml', text, { instanceVariables: ['WEB_PORT'], allowAllInterfaces: ['web'] })),
      [],
    )
  })

  test('bind sources are normalised before they are judged: /., //, .., ~, ${HOME}, relative paths climbing out', () => {
    const climb = `${'../'.repeat(dir.split('/').length + 2)}`
    const text = `services:
  box:
    image: x
    volumes:
      - /.:/host
      - //:/host
      - /srv/../:/host
      - ${climb}:/host
      - \${HOME}/.ssh:/ssh:ro
      - ~/.aws:/aws
      - \${ROOT_DIR:-/}:/r
      - /var/run/docker.sock:/var/run/docker.sock
      - /run//docker.sock:/d.sock
      - /var/run:/vr
      - /var:/v
      - /etc:/etc
      - /etc/ssl/private:/keys
      - /root:/r2
      - /home:/h
      - /home/alice/.config/:/c
      - ~:/me
      - ./src:/app
      - ./.cache:/cache
      - /etc/localtime:/etc/localtime:ro
      - ~/projects/data:/data
      - /home/alice/code:/code
      - /srv/data:/srv
      - named:/named
      - \${DATA_DIR:-./data}:/data2
volumes:
  named: {}
`
    const report = lint('mounts.yaml', text, { variables: { HOME: '/home/tester' } })
    const root = (line: number) => `${line} host-root-mount`
    const sensitive = (line: number) => `${line} sensitive-mount`
    assert.deepEqual(rules(report), [
      root(5),
      root(6),
      root(7),
      root(8),
      sensitive(9),
      sensitive(10),
      root(11),
      sensitive(12),
      sensitive(13),
      sensitive(14),
      sensitive(15),
      sensitive(16),
      sensitive(17),
      sensitive(18),
      sensitive(19),
      sensitive(20),
      sensitive(21),
    ])
    assert.match(report.errors[7]?.text ?? '', /Docker engine's socket/)
    assert.match(report.errors[4]?.text ?? '', /\/home\/tester\/\.ssh, a home folder's dot folder/)
  })

  test('long-syntax binds and local-driver volumes with o: bind are judged too; allowMounts accepts the written or the resolved path', () => {
    const text = `services:
  box:
    image: x
    volumes:
      - type: bind
        source: /var/run/docker.sock
        target: /var/run/docker.sock
      - type: volume
        source: hostetc
        target: /etc2
volumes:
  hostetc:
    driver_opts:
      type: none
      o: bind
      device: /etc
`
    assert.deepEqual(rules(lint('long.yaml', text)), ['5 sensitive-mount', '16 sensitive-mount'])
    assert.deepEqual(rules(lint('long.yaml', text, { allowMounts: ['/var/run/docker.sock', '/etc/'] })), [])
  })

  test('privileged, pid/ipc: host and cap_add are warnings naming the service', () => {
    const text = `services:
  box:
    image: x
    privileged: true
    pid: host
    ipc: host
    cap_add: [NET_ADMIN, SYS_PTRACE]
    network_mode: host
`
    const report = lint('powers.yaml', text)
    assert.deepEqual(rules(report), [])
    assert.deepEqual(rules(report, 'warnings'), [
      '4 privileged',
      '5 host-namespace',
      '6 host-namespace',
      '7 cap-add',
      '8 host-network',
    ])
    assert.match(report.warnings[3]?.text ?? '', /service "box": cap_add: NET_ADMIN, SYS_PTRACE/)
  })
})

describe('compose interpolation', () => {
  test('resolves $VAR, ${VAR}, :- and -, :+ and +, :? and ?, $$ and nested defaults as compose does', () => {
    const values = { SET: 'v', EMPTY: '', OTHER: 'o' }
    const cases: [string, string][] = [
      ['$SET/${SET}', 'v/v'],
      ['${UNSET:-d} ${EMPTY:-d} ${SET:-d}', 'd d v'],
      ['${UNSET-d} ${EMPTY-d}', 'd '],
      ['${SET:+r} ${EMPTY:+r} ${EMPTY+r} ${UNSET+r}', 'r  r '],
      ['${UNSET:?needed} ${SET:?needed}', ' v'],
      ['$$SET $${SET}', '$SET ${SET}'],
      ['${UNSET:-${OTHER}-x}', 'o-x'],
      ['${UNSET:-${ALSO_UNSET:-deep}}', 'deep'],
      ['$ alone, ${unclosed', '$ alone, ${unclosed'],
    ]
    for (const [text, want] of cases) assert.equal(interpolate(text, values), want, text)
  })

  test('a value varies per instance only through a per-instance variable', () => {
    const variance = { values: { FIXED: 'x' }, instanceVariables: ['INSTANCE_ID'] }
    assert.equal(variesPerInstance('${INSTANCE_ID}-data', variance), true)
    assert.equal(variesPerInstance('${FIXED:-${INSTANCE_ID}}', variance), false)
    assert.equal(variesPerInstance('${UNSET:-${INSTANCE_ID}}', variance), true)
    assert.equal(variesPerInstance('$${INSTANCE_ID}', variance), false)
  })
})

describe('compose short syntax', () => {
  test('splits ports outside ${VAR:-default} and IPv6 brackets', () => {
    assert.deepEqual(splitOutside('127.0.0.1:${P:-80}:80', ':'), ['127.0.0.1', '${P:-80}', '80'])
    assert.deepEqual(parsePortSpec('[::1]:${P}:80/udp'), { hostIp: '::1', host: '${P}', container: '80/udp' })
    assert.deepEqual(parsePortSpec('${P:-8000}:8000'), { hostIp: undefined, host: '${P:-8000}', container: '8000' })
    assert.deepEqual(parsePortSpec('127.0.0.1::80'), { hostIp: '127.0.0.1', host: '', container: '80' })
    assert.deepEqual(parsePortSpec('80'), { hostIp: undefined, host: undefined, container: '80' })
  })

  test('normalises host paths and names what is sensitive about them', () => {
    const context = { home: '/home/me', projectDir: '/work/app' }
    assert.equal(normaliseHostPath('/.', context), '/')
    assert.equal(normaliseHostPath('~/', context), '/home/me')
    assert.equal(normaliseHostPath('../../../..', context), '/')
    assert.equal(normaliseHostPath('./src/', context), '/work/app/src')
    const kind = (path: string) => sensitiveMount(normaliseHostPath(path, context), context)
    assert.equal(kind('/'), 'host-root')
    assert.equal(kind('/var/run/docker.sock'), 'docker-socket')
    assert.equal(kind('/etc/hosts'), 'etc')
    assert.equal(kind('/etc/localtime'), undefined)
    assert.equal(kind('~'), 'home')
    assert.equal(kind('~/.netrc'), 'home-dot-folder')
    assert.equal(kind('~/code'), undefined)
    // the project's own folders are fine wherever the checkout lives
    assert.equal(
      sensitiveMount('/home/me/.local/app/src', { home: '/home/me', projectDir: '/home/me/.local/app' }),
      undefined,
    )
  })
})
