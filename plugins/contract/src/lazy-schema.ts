import * as z from 'zod'

/** What zod's JSON Schema generator keeps per schema it met (`ctx.seen`); only `ref` is set here. */
interface SeenEntry {
  ref?: unknown
}

/**
 * A value (a zod schema) built the first time it is used, not when its module loads.
 *
 * Building a zod schema costs far more than parsing with it once: a plugin's module declares a few
 * dozen (its config section, its outputs, its flags), and a command loads the plugins whose steps
 * or services it uses, most of whose schemas it never touches (`sandbox list` reads no compose
 * section; issue 16 measured ~9 ms of a ~90 ms command building them). A module writes
 *
 *     export const portsConfigSchema = lazySchema(() => z.record(z.string(), portSpecSchema))
 *
 * and every use stays as it is (`portsConfigSchema.parse(x)`, `.extend(…)`, nested in another
 * schema, `z.infer<typeof portsConfigSchema>`, `z.toJSONSchema`): what comes back stands in for
 * the schema and builds it on its first property read. A schema derived from another at module
 * level (`base.extend(…)`) is wrapped too, or it would build its base at load.
 *
 * zod's JSON Schema generator tells schemas apart by identity, and a schema's own processor looks
 * itself up by the real object: the stand-in answers as a transparent wrapper of its schema (it
 * processes the schema and refers to it, as `.optional()` does to its inner type).
 */
export function lazySchema<T extends object>(build: () => T): T {
  let built: T | undefined
  let internals: object | undefined
  const real = (): T => {
    if (!built) {
      interpretOnly()
      built = build()
    }
    return built
  }
  const standIn: T = new Proxy({} as T, {
    // The real schema is the receiver: its getters and methods see it, not the stand-in.
    get: (_, key) => {
      if (key !== '_zod') return Reflect.get(real(), key)
      internals ??= zodInternals(real() as unknown as z.ZodType, standIn as unknown as z.ZodType)
      return internals
    },
    set: (_, key, value) => Reflect.set(real(), key, value),
    has: (_, key) => Reflect.has(real(), key),
    deleteProperty: (_, key) => Reflect.deleteProperty(real(), key),
    getPrototypeOf: () => Reflect.getPrototypeOf(real()),
    ownKeys: () => Reflect.ownKeys(real()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(real(), key)
      // A proxy may not report a property its (empty) target lacks as non-configurable.
      return descriptor ? { ...descriptor, configurable: true } : undefined
    },
    defineProperty: (_, key, descriptor) => Reflect.defineProperty(real(), key, descriptor),
  })
  return standIn
}

let configured = false
/**
 * zod compiles a parser for each object schema with `new Function` on first use. A CLI parses each
 * schema a few times per process, and generated code is compiled on every run (V8's code cache
 * cannot keep it), so the interpreted path is faster here (issue 16). Same results either way.
 * Set before berth's first schema is built (berth's bundle sets it when it loads zod), not when
 * this module loads: a command that builds no schema does not load zod at all.
 */
function interpretOnly(): void {
  if (configured) return
  configured = true
  z.config({ jitless: true })
}

/** The schema's `_zod`, but turned into JSON Schema as a reference to the schema itself. */
function zodInternals(schema: z.ZodType, standIn: z.ZodType): object {
  type Context = Parameters<typeof z.core.processSchema>[1]
  type Params = Parameters<typeof z.core.processSchema>[2]
  const processJSONSchema = (ctx: Context, _json: unknown, params: Params) => {
    z.core.processSchema(schema, ctx, params)
    const entry = ctx.seen.get(standIn) as SeenEntry | undefined
    if (entry) entry.ref = schema
  }
  return new Proxy(schema._zod, {
    get: (target, key) => (key === 'processJSONSchema' ? processJSONSchema : Reflect.get(target, key)),
  })
}
