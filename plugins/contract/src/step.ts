/**
 * The typed step contract: a step declares the flags it reads, the config section it reads and
 * the outputs it writes, each with a zod schema. The runner offers the declared flags on every
 * command whose pipeline holds the step (and lists them in `--help`), validates flag values and
 * outputs, and hands the step a context typed by its declarations — so a misspelt flag, config
 * key or output key is a compile error in the plugin, not a silent `undefined` at run time.
 */
import type * as z from 'zod'
import type { BerthServices, TaskContext } from './context.js'

// ---------------------------------------------------------------------------------------------
// Flags

/** A switch: `--build`. Its value is `true` when given, absent otherwise. */
export interface BooleanFlag {
  readonly type: 'boolean'
  readonly description: string
  readonly short?: string
}

/** An option with a value: `--timeout 30`. `schema` checks and converts the text before any step runs. */
export interface ValueFlag<T = string> {
  readonly type: 'string'
  readonly description: string
  /** The placeholder shown in help, e.g. `S` or `NAME`. */
  readonly value: string
  readonly short?: string
  readonly schema?: z.ZodType<T>
}

export type FlagDef = BooleanFlag | ValueFlag<unknown>
export type FlagDefs = { readonly [name: string]: FlagDef }

export type FlagValue<D> = D extends BooleanFlag ? boolean : D extends ValueFlag<infer T> ? T : never

/** What a step sees of the flags it declared: each one optional (absent when not given). */
export type FlagValues<F extends FlagDefs> = { readonly [K in keyof F]?: FlagValue<F[K]> }

/** Builders for flag declarations. */
export const flag = {
  boolean(description: string, options: { short?: string } = {}): BooleanFlag {
    return { type: 'boolean', description, ...options }
  },
  string(description: string, options: { value: string; short?: string }): ValueFlag<string> {
    return { type: 'string', description, ...options }
  },
  /** A value flag parsed by `schema` (e.g. `z.coerce.number().positive()`): bad text exits 2 before any step. */
  parsed<S extends z.ZodType>(
    schema: S,
    description: string,
    options: { value: string; short?: string },
  ): ValueFlag<z.output<S>> {
    return { type: 'string', description, schema: schema as z.ZodType<z.output<S>>, ...options }
  },
}

// ---------------------------------------------------------------------------------------------
// Config sections

/**
 * A top-level section of the config file owned by one plugin, validated by its schema once when
 * the config loads. `read(ctx)` is the one way to read it: typed by the schema, defaults filled in.
 */
export interface ConfigSection<N extends string = string, S extends z.ZodType = z.ZodType> {
  readonly name: N
  readonly schema: S
  read(ctx: Pick<TaskContext, 'config'>): z.output<S>
}

export function defineSection<const N extends string, S extends z.ZodType>(name: N, schema: S): ConfigSection<N, S> {
  return {
    name,
    schema,
    read(ctx) {
      const value = ctx.config.sections[name]
      // A section no loaded plugin validated (a hand-made test context) gets the schema's defaults.
      return (value === undefined ? schema.parse(undefined) : value) as z.output<S>
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Outputs

/** What a renderer may look at besides its own value. */
export interface RenderView {
  /** The command as typed, e.g. `sandbox up`. */
  readonly command: string
  /** The pipeline, e.g. `sandbox.up`. */
  readonly task: string
  /** The whole result document (other steps' outputs), read-only. */
  readonly output: Readonly<Record<string, unknown>>
}

/**
 * One key of a command's result: its zod schema types the `--json` document and documents it;
 * `render` turns it into lines for humans (printed on stdout in pipeline order).
 */
export interface OutputDef<K extends string = string, S extends z.ZodType = z.ZodType> {
  readonly key: K
  readonly schema: S
  readonly description: string
  render?(value: z.output<S>, view: RenderView): string[]
}

export function defineOutput<const K extends string, S extends z.ZodType>(
  key: K,
  schema: S,
  options: { description: string; render?(value: z.output<S>, view: RenderView): string[] },
): OutputDef<K, S> {
  return { key, schema, ...options }
}

export type OutputDefs = readonly OutputDef[]

/** What a step may write (and read back) of the result: only the keys it declared, typed. */
export type OutputValues<O extends OutputDefs> = { [D in O[number] as D['key']]?: z.output<D['schema']> }

// ---------------------------------------------------------------------------------------------
// State between a plugin's own steps

/** A typed slot in `ctx.state`, private to the plugin that defines it. */
export interface StateKey<T> {
  readonly key: string
  get(ctx: Pick<TaskContext, 'state'>): T | undefined
  set(ctx: Pick<TaskContext, 'state'>, value: T): void
  delete(ctx: Pick<TaskContext, 'state'>): void
}

/** `const created = defineState<CreatedWorktree>('worktree.created')`, then `created.set(ctx, …)`. */
export function defineState<T>(key: string): StateKey<T> {
  return {
    key,
    get: (ctx) => ctx.state[key] as T | undefined,
    set: (ctx, value) => {
      ctx.state[key] = value
    },
    delete: (ctx) => {
      delete ctx.state[key]
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Steps

type SettingsOf<C> = C extends ConfigSection<string, infer S> ? z.output<S> : undefined

/** The context a step runs with: the task's context, narrowed to what the step declared. */
export type StepContext<
  F extends FlagDefs = FlagDefs,
  C extends ConfigSection | undefined = ConfigSection | undefined,
  O extends OutputDefs = OutputDefs,
> = Omit<TaskContext, 'flags' | 'settings' | 'output'> & {
  /** The flags this step declared, parsed and validated before the pipeline started. */
  readonly flags: FlagValues<F>
  /** The config section this step declared, validated, with defaults filled in. */
  readonly settings: SettingsOf<C>
  /** The outputs this step declared. */
  output: OutputValues<O>
}

export interface Step<
  F extends FlagDefs = FlagDefs,
  C extends ConfigSection | undefined = ConfigSection | undefined,
  O extends OutputDefs = OutputDefs,
> {
  /** One line for `--help` and `config show`. */
  description?: string
  /**
   * `read` steps only look (they run under `--dry-run`); `write` steps change something and, under
   * `--dry-run`, are replaced by their `plan`. Default: `write` when the step has an `undo`, else `read`.
   */
  effect?: 'read' | 'write'
  /** The flags the step reads; offered on every command whose pipeline holds the step. */
  flags?: F
  /** The config section the step reads, as `ctx.settings`. */
  config?: C
  /** The result keys the step writes; the runner checks that it writes no other. */
  outputs?: O
  /**
   * The services of other plugins the step calls (`ctx.services.<name>`), directly or through
   * another service. A read-only command whose every step declares `uses` loads only the plugins
   * owning its steps and these services (issue 16); reading an undeclared service there is an
   * error naming the step. A step without `uses` makes its command load every plugin.
   */
  uses?: readonly (keyof BerthServices)[]
  /** What `run` would do, for `--dry-run` (defaults to the description). */
  plan?(ctx: StepContext<F, C, O>): string | Promise<string>
  /**
   * Checks what the declared flag schemas cannot (a compose file against the guardrails, flags
   * that depend on each other) before the pipeline's FIRST step runs, so `impl` refuses bad input
   * before it claims or creates anything. Must not change anything; throws a UsageError or
   * ConfigError. Runs under `--dry-run` too. `ctx.instance` is not known yet.
   */
  validate?(ctx: StepContext<F, C, O>): void | Promise<void>
  /**
   * Starts the slow reads `run` will await (an engine request), once every `validate` passed and
   * before the pipeline's first step runs, so they overlap the steps before this one. Must not
   * change anything, nor throw: a failed read is `run`'s to report when it awaits the result.
   * `ctx.instance` may not be known yet.
   */
  prefetch?(ctx: StepContext<F, C, O>): void
  run(ctx: StepContext<F, C, O>): void | Promise<void>
  /** Reverses what `run` changed; called in reverse order when a later step fails. */
  undo?(ctx: StepContext<F, C, O>): void | Promise<void>
}

/**
 * Declares a step; the type parameters are inferred from `flags`, `config` and `outputs`, so
 * `run(ctx)` sees `ctx.flags`, `ctx.settings` and `ctx.output` typed by them.
 */
export function defineStep<
  const F extends FlagDefs = Record<never, FlagDef>,
  C extends ConfigSection | undefined = undefined,
  const O extends OutputDefs = [],
>(step: Step<F, C, O>): Step {
  return step as unknown as Step
}
