import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { UsageError } from '@berth/contract'
import { composePlugin, hostRootMount, lintComposeFiles, parsePortSpec, splitOutside } from '../src/index.js'
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
    const report = lintComposeFiles([join(dir, 'clean.yaml')])
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

  test('rejects external volumes, fixed network names and mounts of / and the home directory', () => {
    const report = lintComposeFiles([join(dir, 'broken.yaml')], { cwd: dir })
    const found = report.errors.map((p) => `${p.line} ${p.subject} ${p.rule}`)
    assert.deepEqual(found.sort(), [
      '12 service "db" host-root-mount',
      '13 service "db" host-root-mount',
      '14 service "db" host-root-mount',
      '19 volume "shared" shared-resource',
      '22 network "edge" shared-resource',
      '4 service "api" container-name',
      '6 service "api" fixed-host-port',
    ])
  })

  test('warns about ports published on 0.0.0.0 or without a host IP', () => {
    const report = lintComposeFiles([join(dir, 'broken.yaml')], { cwd: dir })
    const warnings = report.warnings.map((p) => `${p.line} ${p.subject} ${p.rule}`)
    assert.deepEqual(warnings.sort(), ['10 service "db" port-all-interfaces', '6 service "api" port-all-interfaces'])
    assert.match(report.warnings.find((w) => w.line === 10)?.text ?? '', /published on 0\.0\.0\.0/)
  })

  test('exempts the services and shared resources the config allows', () => {
    const report = lintComposeFiles([join(dir, 'broken.yaml')], {
      allowFixedPorts: ['api'],
      allowShared: ['shared', 'edge'],
    })
    assert.deepEqual(report.errors.map((p) => p.rule).sort(), [
      'container-name',
      'host-root-mount',
      'host-root-mount',
      'host-root-mount',
    ])
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
    const ctx = makeContext({ root: dir })
    const step = composePlugin().steps.lint
    await assert.rejects(
      async () => step.run(ctx),
      (error: unknown) => {
        assert.ok(error instanceof UsageError)
        assert.equal(error.exitCode, 2)
        assert.match(error.message, /7 problems/)
        assert.match(error.message, /docker-compose\.yml:4: service "api": container_name/)
        return true
      },
    )
    const lint = ctx.output.lint as { errors: unknown[]; warnings: unknown[] }
    assert.equal(lint.errors.length, 7)
    assert.equal(lint.warnings.length, 2)
    assert.equal(ctx.logs.filter((log) => log.level === 'warn').length, 2)
  })

  test('compose.lint passes a clean file and can be switched off', async () => {
    const step = composePlugin().steps.lint
    const clean = makeContext({ root: dir, compose: { files: ['clean.yaml'] } })
    await step.run(clean)
    assert.deepEqual(clean.output.lint, { errors: [], warnings: [] })
    const off = makeContext({ root: dir, compose: { files: ['broken.yaml'], lint: { enabled: false } } })
    await step.run(off)
    assert.deepEqual(off.output.lint, { errors: [], warnings: [], skipped: true })
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

  test('treats exactly /, ~, $HOME and ${HOME} as host roots', () => {
    for (const root of ['/', '//', '~', '~/', '$HOME', '${HOME}', '${HOME}/']) assert.ok(hostRootMount(root), root)
    for (const narrow of ['/srv', '~/data', '$HOME/src', './', '.', '${HOME_DIR}']) {
      assert.equal(hostRootMount(narrow), undefined, narrow)
    }
  })
})
