import {
  type BerthError,
  InterruptedError,
  isBerthError,
  OperationError,
  type Plugin,
  type Step,
  type TaskContext,
} from '@berth/contract'

/** A step of a pipeline bound to its plugin: `id` is `<plugin key>.<step>`. */
export interface BoundStep {
  id: string
  plugin: Plugin
  step: Step
}

export interface RunHooks {
  onStepStart?(id: string): void
  onStepDone?(id: string, ms: number): void
  onStepFailed?(id: string, ms: number): void
  onUndo?(id: string, error?: unknown): void
}

export interface StepTiming {
  step: string
  ms: number
  status: 'done' | 'failed' | 'undone' | 'undo-failed' | 'planned'
}

/**
 * Where a run stands, kept up to date for whoever must say what an interrupted run leaves behind
 * (the CLI's signal handler): the steps that changed something and are not undone yet.
 */
export interface PipelineProgress {
  phase: 'validate' | 'run' | 'rollback' | 'done'
  /** Ids of completed steps with an `undo`, not undone yet, in the order they ran. */
  pending: string[]
  /** The step running (or being undone) now. */
  current?: string | undefined
}

/** A failed pipeline's error carries the undo errors here; they never replace the original. */
export type PipelineError = BerthError & { undoErrors?: Error[]; timings?: StepTiming[] }

/**
 * Runs every step's `validate` first (nothing has changed yet), then the steps in order. When one
 * fails, the steps that completed are undone in reverse order (every undo runs, even when an
 * earlier undo failed) and the original error is thrown, tagged with the failing step and carrying
 * the undo errors. `keep` skips the undo: `true` when the user asked to keep what was made, or a
 * test of the error (a persistent stack whose gate failed stays up for inspection).
 */
export async function runPipeline(
  steps: BoundStep[],
  ctx: TaskContext,
  hooks: RunHooks = {},
  options: {
    keep?: boolean | ((error: BerthError) => boolean)
    dryRun?: boolean
    progress?: PipelineProgress
    /**
     * Whether a step's outputs are checked against their schemas (default: every step). A step
     * writing a key it did not declare is refused either way.
     */
    checkSchemas?: (bound: BoundStep) => boolean
  } = {},
): Promise<StepTiming[]> {
  const progress = options.progress ?? { phase: 'validate', pending: [] }
  progress.phase = 'validate'
  const completed: BoundStep[] = []
  const timings: StepTiming[] = []
  const plan: { step: string; action: string }[] = []
  if (options.dryRun) ctx.output.plan = plan
  // Flags and config first, for every step: a bad value stops the task before anything changed.
  for (const bound of steps) {
    if (!bound.step.validate) continue
    try {
      ctx.settings = bound.step.config?.read(ctx)
      await bound.step.validate(ctx as never)
    } catch (raw) {
      const error = asBerthError(raw, bound.id) as PipelineError
      error.step ??= bound.id
      error.undoErrors = []
      error.timings = []
      progress.phase = 'done'
      throw error
    }
  }
  // Slow reads of later steps (an engine request) start now, overlapping the steps before them.
  let prefetched = false
  for (const bound of steps) {
    if (!bound.step.prefetch) continue
    try {
      ctx.settings = bound.step.config?.read(ctx)
      bound.step.prefetch(ctx as never)
      prefetched = true
    } catch (error) {
      ctx.log.debug(`prefetch of ${bound.id} failed: ${(error as Error).message}`)
    }
  }
  // One turn of the event loop: a socket connects and sends its request before the steps before
  // it keep the thread busy (a step reading files synchronously would otherwise hold it back).
  if (prefetched) await new Promise((resolve) => setImmediate(resolve))
  progress.phase = 'run'
  for (const bound of steps) {
    const started = monotonicMs()
    try {
      if (ctx.signal.aborted) throw new InterruptedError()
      if (options.dryRun && stepEffect(bound.step) === 'write') {
        ctx.settings = bound.step.config?.read(ctx)
        const action = bound.step.plan ? await bound.step.plan(ctx as never) : (bound.step.description ?? bound.id)
        plan.push({ step: bound.id, action })
        timings.push({ step: bound.id, ms: 0, status: 'planned' })
        continue
      }
      hooks.onStepStart?.(bound.id)
      progress.current = bound.id
      const before = new Map(Object.entries(ctx.output))
      ctx.settings = bound.step.config?.read(ctx)
      await bound.step.run(ctx as never)
      checkOutputs(bound, ctx, before, options.checkSchemas?.(bound) ?? true)
      const ms = Math.round(monotonicMs() - started)
      timings.push({ step: bound.id, ms, status: 'done' })
      hooks.onStepDone?.(bound.id, ms)
      completed.push(bound)
      if (bound.step.undo) progress.pending.push(bound.id)
      progress.current = undefined
    } catch (raw) {
      const ms = Math.round(monotonicMs() - started)
      timings.push({ step: bound.id, ms, status: 'failed' })
      hooks.onStepFailed?.(bound.id, ms)
      const error = asBerthError(raw, bound.id) as PipelineError
      error.step ??= bound.id
      // A failing step rolls back what it made itself; until it returned, it counted as pending.
      progress.current = undefined
      progress.phase = 'rollback'
      const keep = typeof options.keep === 'function' ? options.keep(error) : options.keep === true
      error.undoErrors = keep ? [] : await undoAll(completed, ctx, timings, hooks, progress)
      error.timings = timings
      progress.phase = 'done'
      throw error
    }
  }
  progress.phase = 'done'
  return timings
}

async function undoAll(
  completed: BoundStep[],
  ctx: TaskContext,
  timings: StepTiming[],
  hooks: RunHooks,
  progress: PipelineProgress,
) {
  const errors: Error[] = []
  for (const bound of [...completed].reverse()) {
    if (!bound.step.undo) continue
    const started = monotonicMs()
    progress.current = bound.id
    try {
      ctx.settings = bound.step.config?.read(ctx)
      await bound.step.undo(ctx as never)
      timings.push({ step: bound.id, ms: Math.round(monotonicMs() - started), status: 'undone' })
      hooks.onUndo?.(bound.id)
      progress.pending = progress.pending.filter((id) => id !== bound.id)
    } catch (error) {
      timings.push({ step: bound.id, ms: Math.round(monotonicMs() - started), status: 'undo-failed' })
      hooks.onUndo?.(bound.id, error)
      errors.push(new Error(`undo of ${bound.id} failed: ${(error as Error).message}`, { cause: error }))
    }
    progress.current = undefined
  }
  return errors
}

/**
 * A step that declares its outputs writes only those, each matching its schema (when `schemas`):
 * the `--json` document is then exactly what the schemas document. (Steps without declarations
 * are not checked.)
 */
function checkOutputs(bound: BoundStep, ctx: TaskContext, before: Map<string, unknown>, schemas: boolean): void {
  const declared = bound.step.outputs
  if (!declared) return
  const byKey = new Map(declared.map((output) => [output.key, output]))
  for (const key of Object.keys(ctx.output)) {
    const def = byKey.get(key)
    if (!def) {
      if (before.get(key) !== ctx.output[key])
        throw new OperationError(`step ${bound.id} wrote the output "${key}", which it does not declare`, {
          code: 'E_PLUGIN_CONTRACT',
          hint: `add it to the step's outputs (plugin ${bound.plugin.name})`,
        })
      continue
    }
    if (!schemas) continue
    const parsed = def.schema.safeParse(ctx.output[key])
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      throw new OperationError(
        `step ${bound.id} wrote an invalid "${key}" output: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`,
        { code: 'E_PLUGIN_CONTRACT', hint: `a bug in plugin ${bound.plugin.name} ${bound.plugin.version}` },
      )
    }
  }
}

/** A step changes the world when it says so, or when it can be undone. */
export function stepEffect(step: Step): 'read' | 'write' {
  return step.effect ?? (step.undo ? 'write' : 'read')
}

function asBerthError(error: unknown, stepId: string): BerthError {
  if (isBerthError(error)) return error
  const message = error instanceof Error ? error.message : String(error)
  return new OperationError(`step ${stepId} failed: ${message}`, { cause: error })
}

/** Milliseconds on the monotonic clock (not `performance.now()`: its global loads perf_hooks, issue 16). */
function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6
}
