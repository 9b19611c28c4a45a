import { defineState, type Plugin } from '@berth/contract'
import type { CommandSpec } from './commands.js'
import { collectStepFlags, type StepFlag } from './flags.js'
import { bindPipeline, expandPipeline } from './pipelines.js'

/** What the runner hands its own steps (config, doctor, completion): the loaded plugins and pipelines. */
export interface RunnerState {
  plugins: Plugin[]
  pipelines: Record<string, string[]>
}

export const runnerState = defineState<RunnerState>('runner')

/** The flags the steps of `command`'s pipeline declare (for completion); none when it cannot bind. */
export function commandStepFlags(command: CommandSpec, runner: RunnerState): StepFlag[] {
  try {
    const steps = bindPipeline(command.pipeline, expandPipeline(command.pipeline, runner.pipelines), runner.plugins)
    return collectStepFlags(command, steps, [])
  } catch {
    return []
  }
}
