import * as z from 'zod'
import type { BerthServices, TaskContext } from './context.js'
import { lazySchema } from './lazy-schema.js'
import type { ConfigSection, Step } from './step.js'

/** One finding of `berth doctor`. A `fail` with an exit code makes doctor exit with it. */
export const diagnosisSchema = lazySchema(() =>
  z.object({
    check: z.string(),
    status: z.enum(['ok', 'warn', 'fail']),
    detail: z.string(),
    hint: z.string().optional(),
    /** For `fail`: 4 when something required is missing from the environment, 1 otherwise. */
    exitCode: z.union([z.literal(1), z.literal(4)]).optional(),
  }),
)
export type Diagnosis = z.infer<typeof diagnosisSchema>

export interface Plugin {
  /** Namespaced, e.g. `berth:ports`. The part after `:` names its steps in pipelines: `ports.check`. */
  name: string
  version: string
  /** Config sections this plugin owns, each validated by its schema when the config loads. */
  sections?: readonly ConfigSection[]
  /** @deprecated the untyped form of `sections`; kept while plugins move to `defineSection`. */
  config?: Record<string, z.ZodType>
  steps: Record<string, Step>
  /** Capabilities offered to other plugins for the whole task. */
  services?(ctx: TaskContext): BerthServices | Promise<BerthServices>
  /** Health checks for `berth doctor`; must not change anything. */
  diagnose?(ctx: TaskContext): Promise<Diagnosis[]>
  /**
   * `berth doctor --fix`: repairs what is safe and says what it will not touch. With `dryRun`
   * nothing is changed and the actions are only listed.
   */
  repair?(ctx: TaskContext, options: { dryRun: boolean }): Promise<Repair[]>
  /**
   * Runs after every pipeline, whether it passed or failed (after the undo), e.g. to leave
   * evidence of a failed run. Errors here are reported as warnings, never replace the outcome.
   */
  finalize?(ctx: TaskContext, outcome: PipelineOutcome): void | Promise<void>
  /**
   * The user stopped a rollback (a third Ctrl-C): berth exits right after this call. Synchronous,
   * so it can only record — e.g. which steps' changes are `leftBehind`, for `doctor --fix` to
   * finish the rollback later. Errors are ignored.
   */
  abandon?(ctx: TaskContext, leftBehind: string[]): void
}

/** One repair of `berth doctor --fix`. */
export const repairSchema = lazySchema(() =>
  z.object({
    /** What was (or, with dryRun, would be) done, or why something is left alone. */
    action: z.string(),
    status: z.enum(['fixed', 'planned', 'skipped', 'failed']),
    detail: z.string().optional(),
  }),
)
export type Repair = z.infer<typeof repairSchema>

export interface PipelineOutcome {
  ok: boolean
  error?: Error
  /** Each step's name, status and duration. */
  timings: { step: string; ms: number; status: string }[]
}

export function definePlugin<P extends Plugin>(plugin: P): P {
  return plugin
}

/** The short name used in pipelines: `berth:ports` -> `ports`, `acme-check` -> `acme-check`. */
export function pluginKey(plugin: Pick<Plugin, 'name'>): string {
  const colon = plugin.name.lastIndexOf(':')
  return colon >= 0 ? plugin.name.slice(colon + 1) : plugin.name
}

/** Reads a plugin's own section of the resolved config, typed by its schema. */
export function readSection<S extends z.ZodType>(ctx: TaskContext, section: string, _schema: S): z.output<S> {
  return ctx.config.sections[section] as z.output<S>
}
