import assert from 'node:assert/strict'
import { tmpdir } from 'node:os'
import { describe, test } from 'node:test'
import {
  BerthError,
  ConflictError,
  type Logger,
  OperationError,
  type Plugin,
  Redactor,
  type Step,
  type TaskContext,
} from '@berth/contract'
import * as z from 'zod'
import { type BoundStep, type PipelineError, runPipeline } from '../src/runner.js'

function context(signal = new AbortController().signal): TaskContext {
  const silent: Logger = { info() {}, warn() {}, debug() {} }
  return {
    task: 'test',
    cwd: tmpdir(),
    home: tmpdir(),
    config: { project: 'acme', root: tmpdir(), file: null, sections: {} },
    args: { positionals: [], flags: {} },
    flags: {},
    settings: undefined,
    exitCode: 0,
    log: silent,
    redactor: new Redactor(),
    services: {},
    signal,
    request: {},
    env: {},
    secretEnv: {},
    output: {},
    state: {},
  }
}

const plugin: Plugin = { name: 'test:recorder', version: '0.0.0', steps: {} }

/** Steps that record `run X` / `undo X` into `calls`; `fail` makes a step throw `error`. */
function recorder(calls: string[]) {
  const step = (id: string, options: { fail?: unknown; undo?: boolean; undoFails?: boolean } = {}): BoundStep => {
    const definition: Step = {
      run() {
        calls.push(`run ${id}`)
        if (options.fail !== undefined) throw options.fail
      },
    }
    if (options.undo !== false) {
      definition.undo = () => {
        calls.push(`undo ${id}`)
        if (options.undoFails) throw new Error(`cannot undo ${id}`)
      }
    }
    return { id, plugin, step: definition }
  }
  return step
}

/** Runs the pipeline, expecting it to fail; returns the error it threw. */
async function failure(run: Promise<unknown>): Promise<PipelineError> {
  try {
    await run
  } catch (error) {
    assert.ok(error instanceof BerthError, `expected a BerthError, got ${error}`)
    return error as PipelineError
  }
  assert.fail('expected the pipeline to fail')
}

describe('runPipeline', () => {
  test('runs every step in order and reports a timing for each', async () => {
    const calls: string[] = []
    const step = recorder(calls)
    const timings = await runPipeline([step('a.one'), step('b.two'), step('c.three')], context())
    assert.deepEqual(calls, ['run a.one', 'run b.two', 'run c.three'])
    assert.deepEqual(
      timings.map((t) => [t.step, t.status]),
      [
        ['a.one', 'done'],
        ['b.two', 'done'],
        ['c.three', 'done'],
      ],
    )
  })

  test('undoes the completed steps in reverse order when a step fails, never the failed one', async () => {
    const calls: string[] = []
    const step = recorder(calls)
    const failing = new ConflictError('slot taken')
    const error = await failure(
      runPipeline([step('a.one'), step('b.two'), step('c.three', { fail: failing }), step('d.four')], context()),
    )
    assert.deepEqual(calls, ['run a.one', 'run b.two', 'run c.three', 'undo b.two', 'undo a.one'])
    assert.equal(error, failing, 'the original error is thrown, not a wrapper')
    assert.equal(error.step, 'c.three')
    assert.equal(error.exitCode, 3)
    assert.deepEqual(error.undoErrors, [])
  })

  test('skips steps without undo while unwinding', async () => {
    const calls: string[] = []
    const step = recorder(calls)
    await failure(
      runPipeline(
        [step('a.one'), step('b.readonly', { undo: false }), step('c.three', { fail: new Error('x') })],
        context(),
      ),
    )
    assert.deepEqual(calls, ['run a.one', 'run b.readonly', 'run c.three', 'undo a.one'])
  })

  test('the first error wins; undo errors are attached and every undo still runs', async () => {
    const calls: string[] = []
    const step = recorder(calls)
    const original = new OperationError('compose up failed')
    const error = await failure(
      runPipeline(
        [step('a.one'), step('b.two', { undoFails: true }), step('c.three'), step('d.four', { fail: original })],
        context(),
      ),
    )
    assert.equal(error, original)
    assert.deepEqual(calls, [
      'run a.one',
      'run b.two',
      'run c.three',
      'run d.four',
      'undo c.three',
      'undo b.two',
      'undo a.one',
    ])
    assert.equal(error.undoErrors?.length, 1)
    assert.match(error.undoErrors![0]!.message, /^undo of b\.two failed: cannot undo b\.two$/)
    assert.ok((error.undoErrors![0]!.cause as Error).message === 'cannot undo b.two')
    assert.deepEqual(
      error.timings?.map((t) => `${t.step} ${t.status}`),
      [
        'a.one done',
        'b.two done',
        'c.three done',
        'd.four failed',
        'c.three undone',
        'b.two undo-failed',
        'a.one undone',
      ],
    )
  })

  test('keep: true skips the undo and still throws the error', async () => {
    const calls: string[] = []
    const step = recorder(calls)
    const error = await failure(
      runPipeline(
        [step('a.one'), step('b.two', { fail: new OperationError('gate failed') })],
        context(),
        {},
        { keep: true },
      ),
    )
    assert.deepEqual(calls, ['run a.one', 'run b.two'])
    assert.equal(error.message, 'gate failed')
    assert.deepEqual(error.undoErrors, [])
  })

  test('wraps a plain error as an operation error (exit 1) naming the step, keeping the cause', async () => {
    const calls: string[] = []
    const step = recorder(calls)
    const plain = new TypeError('undefined is not a function')
    const error = await failure(runPipeline([step('probe.fail', { fail: plain })], context()))
    assert.ok(error instanceof OperationError)
    assert.equal(error.exitCode, 1)
    assert.equal(error.step, 'probe.fail')
    assert.equal(error.message, 'step probe.fail failed: undefined is not a function')
    assert.equal(error.cause, plain)
  })

  test('keeps a step name an error already carries', async () => {
    const step = recorder([])
    const tagged = new OperationError('inner')
    tagged.step = 'compose.up'
    const error = await failure(runPipeline([step('outer.step', { fail: tagged })], context()))
    assert.equal(error.step, 'compose.up')
  })

  test('reports progress through the hooks, undo included', async () => {
    const events: string[] = []
    const step = recorder([])
    await failure(
      runPipeline([step('a.one', { undoFails: true }), step('b.two', { fail: new Error('x') })], context(), {
        onStepDone: (id) => events.push(`done ${id}`),
        onStepFailed: (id) => events.push(`failed ${id}`),
        onUndo: (id, error) => events.push(`undo ${id}${error ? ' failed' : ''}`),
      }),
    )
    assert.deepEqual(events, ['done a.one', 'failed b.two', 'undo a.one failed'])
  })

  test('dryRun runs read steps, plans write steps without running them, and lists the plan', async () => {
    const calls: string[] = []
    const step = recorder(calls)
    const planned: BoundStep = {
      id: 'c.planned',
      plugin,
      step: { effect: 'write', plan: () => 'would write c', run: () => void calls.push('run c.planned') },
    }
    const ctx = context()
    const timings = await runPipeline(
      [step('a.read', { undo: false }), step('b.write'), planned],
      ctx,
      {},
      { dryRun: true },
    )
    assert.deepEqual(calls, ['run a.read'])
    assert.deepEqual(ctx.output.plan, [
      { step: 'b.write', action: 'b.write' },
      { step: 'c.planned', action: 'would write c' },
    ])
    assert.deepEqual(
      timings.map((t) => `${t.step} ${t.status}`),
      ['a.read done', 'b.write planned', 'c.planned planned'],
    )
  })

  test('stops before the next step once the signal is aborted, undoing what completed', async () => {
    const calls: string[] = []
    const abort = new AbortController()
    const step = recorder(calls)
    const aborting: BoundStep = {
      id: 'a.abort',
      plugin,
      step: {
        run: () => {
          calls.push('run a.abort')
          abort.abort()
        },
        undo: () => {
          calls.push('undo a.abort')
        },
      },
    }
    const error = await failure(runPipeline([aborting, step('b.two')], context(abort.signal)))
    assert.equal(error.code, 'E_INTERRUPTED')
    assert.equal(error.step, 'b.two')
    assert.deepEqual(calls, ['run a.abort', 'undo a.abort'])
  })

  test("runs every step's prefetch after every validate and before the first run; a failing prefetch fails nothing", async () => {
    const calls: string[] = []
    const steps: BoundStep[] = [
      {
        id: 'a.first',
        plugin,
        step: { validate: () => void calls.push('validate a'), run: () => void calls.push('run a') },
      },
      {
        id: 'b.engine',
        plugin,
        step: {
          validate: () => void calls.push('validate b'),
          prefetch: () => void calls.push('prefetch b'),
          run: () => void calls.push('run b'),
        },
      },
      {
        id: 'c.broken',
        plugin,
        step: {
          prefetch: () => {
            throw new Error('no engine')
          },
          run: () => void calls.push('run c'),
        },
      },
    ]
    await runPipeline(steps, context())
    assert.deepEqual(calls, ['validate a', 'validate b', 'prefetch b', 'run a', 'run b', 'run c'])
  })

  test('checkSchemas false skips the schema check of outputs, never the check of undeclared keys', async () => {
    const output = { key: 'count', description: 'a number', schema: z.number() }
    const writes = (value: unknown, key = 'count'): BoundStep => ({
      id: 'a.writes',
      plugin,
      step: {
        outputs: [output],
        run: (ctx) => {
          ;(ctx.output as Record<string, unknown>)[key] = value
        },
      },
    })
    const invalid = await failure(runPipeline([writes('three')], context()))
    assert.equal(invalid.code, 'E_PLUGIN_CONTRACT')
    assert.match(invalid.message, /wrote an invalid "count" output/)
    const unchecked = context()
    await runPipeline([writes('three')], unchecked, {}, { checkSchemas: () => false })
    assert.equal(unchecked.output.count, 'three')
    const undeclared = await failure(runPipeline([writes(3, 'other')], context(), {}, { checkSchemas: () => false }))
    assert.match(undeclared.message, /wrote the output "other", which it does not declare/)
  })
})
