import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import * as z from 'zod'
import { lazySchema } from '../src/index.js'

describe('lazySchema', () => {
  test('builds the schema on its first use, once', () => {
    let built = 0
    const schema = lazySchema(() => {
      built++
      return z.object({ port: z.number().int() })
    })
    assert.equal(built, 0, 'not built when defined')
    assert.deepEqual(schema.parse({ port: 80 }), { port: 80 })
    assert.equal(schema.safeParse({ port: 'x' }).success, false)
    assert.equal(built, 1, 'built once')
  })

  test('stands in for the schema: nested, extended, instanceof, JSON Schema, inferred types', () => {
    const base = lazySchema(() => z.object({ id: z.string().min(1) }))
    const derived = lazySchema(() => base.extend({ slot: z.number().int().nullable() }))
    const list = z.array(derived)
    type Derived = z.infer<typeof derived>
    const value: Derived = { id: 'a', slot: null }
    assert.deepEqual(list.parse([value]), [value])
    assert.equal(list.safeParse([{ id: '', slot: 1 }]).success, false)
    assert.ok(derived instanceof z.ZodObject)
    assert.deepEqual(Object.keys(derived.shape), ['id', 'slot'])
    assert.deepEqual(
      z.toJSONSchema(derived),
      z.toJSONSchema(z.object({ id: z.string().min(1), slot: z.number().int().nullable() })),
    )
  })

  test('turns into the same JSON Schema as the schema itself, wrappers (default, optional) included', () => {
    const eager = () => z.object({ max: z.number().int().default(10) }).default({ max: 10 })
    const lazy = lazySchema(eager)
    const optional = lazySchema(() => z.string().optional())
    for (const io of ['input', 'output'] as const) {
      assert.deepEqual(z.toJSONSchema(lazy, { io }), z.toJSONSchema(eager(), { io }))
      assert.deepEqual(
        z.toJSONSchema(z.object({ slots: lazy, again: lazy, name: optional }), { io }),
        z.toJSONSchema(z.object({ slots: eager(), again: eager(), name: z.string().optional() }), { io }),
      )
    }
  })
})
