/**
 * The example plugin tested as docs/plugins.md says a team tests theirs: the step runs against a
 * real HTTP server through the public testing kit, and the compiler rejects what the step did not
 * declare (each `@ts-expect-error` below fails `pnpm typecheck` if the error ever goes away).
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, test } from 'node:test'
import { defineStep, OperationError, type Plugin, UsageError } from '@berth/contract'
import { makeTestContext, runStep } from '@berth/contract/testing'
import seedPlugin, { loadStep, seedFlags, seedOutput, seedSection } from '../src/index.js'

let server: Server
let port = 0
const received: unknown[] = []
let failWith = 0

before(async () => {
  server = createServer((request, response) => {
    let body = ''
    request.on('data', (chunk) => (body += chunk))
    request.on('end', () => {
      if (failWith) return void response.writeHead(failWith).end()
      received.push(JSON.parse(body))
      response.writeHead(201).end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as AddressInfo).port
})
after(() => new Promise<void>((resolve) => server.close(() => resolve())))

const items = [{ name: 'a' }, { name: 'b' }, { name: 'c' }]
const context = (flags: Record<string, unknown> = {}) =>
  makeTestContext({
    root: process.cwd(),
    config: [seedSection],
    sections: { seed: { url: 'http://127.0.0.1:${API_PORT}/items', items } },
    env: { API_PORT: String(port) },
    flags,
  })

describe('seed.load', () => {
  test('posts every configured item to the URL built from .env.sandbox and reports it', async () => {
    received.length = 0
    const ctx = context()
    await runStep(loadStep, ctx)
    assert.deepEqual(received, items)
    assert.deepEqual(ctx.output.seed, { url: `http://127.0.0.1:${port}/items`, inserted: 3, skipped: 0 })
    assert.deepEqual(seedOutput.render?.(ctx.output.seed as never, { command: 'impl', task: 'impl', output: {} }), [
      `seeded 3 item(s) into http://127.0.0.1:${port}/items`,
    ])
  })

  test('--seed-limit N inserts the first N items, --no-seed none', async () => {
    received.length = 0
    const limited = context({ 'seed-limit': 2 })
    await runStep(loadStep, limited)
    assert.deepEqual(received, items.slice(0, 2))
    assert.equal((limited.output.seed as { skipped: number }).skipped, 1)
    const none = context({ 'no-seed': true })
    await runStep(loadStep, none)
    assert.equal(received.length, 2)
    assert.equal((none.output.seed as { inserted: number }).inserted, 0)
  })

  test('an API that refuses an item fails the step naming it', async () => {
    failWith = 500
    try {
      await assert.rejects(runStep(loadStep, context()), (error: unknown) => {
        return error instanceof OperationError && /seed item 1: POST .* answered 500/.test(error.message)
      })
    } finally {
      failWith = 0
    }
  })

  test('a URL naming a variable the instance lacks is a usage error before any request', async () => {
    const ctx = makeTestContext({
      root: process.cwd(),
      config: [seedSection],
      sections: { seed: { url: 'http://127.0.0.1:${NOPE}/items', items } },
    })
    await assert.rejects(
      runStep(loadStep, ctx),
      (error: unknown) => error instanceof UsageError && /NOPE/.test(error.message),
    )
  })

  test('the flag rejects what is not a whole number, as the CLI does before any step', () => {
    assert.equal(seedFlags['seed-limit'].schema?.safeParse('2').data, 2)
    assert.equal(seedFlags['seed-limit'].schema?.safeParse('two').success, false)
  })

  test('the plugin owns the seed section and the seed.load step', () => {
    const plugin: Plugin = seedPlugin()
    assert.equal(plugin.name, 'acme:seed')
    assert.deepEqual(
      plugin.sections?.map((section) => section.name),
      ['seed'],
    )
    assert.deepEqual(Object.keys(plugin.steps), ['load'])
  })
})

// Compile-time checks: never run, only type-checked.
export const misspelt = defineStep({
  flags: seedFlags,
  config: seedSection,
  outputs: [seedOutput],
  run(ctx) {
    // @ts-expect-error a flag the step does not declare (seed-limit is spelt with a dash)
    void ctx.flags.seedLimit
    // @ts-expect-error a config key the seed section does not have
    void ctx.settings.itmes
    // @ts-expect-error an output key the step does not declare
    ctx.output.seeds = { url: '', inserted: 0, skipped: 0 }
    // @ts-expect-error an output of the wrong shape
    ctx.output.seed = { url: '', inserted: 'all', skipped: 0 }
  },
})
