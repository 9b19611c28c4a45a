import type { BerthServices, Plugin, Step, TaskContext } from '@berth/contract'
import { hooksSection } from './hooks/schema.js'
import { composeSection, testSection, workspaceSection } from './schema.js'
import { composeServices } from './services.js'
import { diagnoseCompose } from './steps/doctor.js'
import { composeDestroyStep, composeDownStep } from './steps/down.js'
import { composeExecStep } from './steps/exec.js'
import { composeAfterUpStep, composeBeforeDownStep } from './steps/hooks.js'
import { composeLintStep } from './steps/lint.js'
import { composeListStep } from './steps/list.js'
import { composeLogsStep, type LogsOutput } from './steps/logs.js'
import { composeRenderStep } from './steps/render.js'
import { repairCompose } from './steps/repair.js'
import { composeRunStep, composeShellStep } from './steps/run.js'
import { composeStatusStep } from './steps/status.js'
import { composeTestStep } from './steps/test.js'
import { composeUpStep } from './steps/up.js'
import { COMPOSE_PLUGIN_VERSION } from './version.js'

export type ComposeStepName =
  | 'lint'
  | 'render'
  | 'up'
  | 'afterUp'
  | 'beforeDown'
  | 'down'
  | 'destroy'
  | 'status'
  | 'logs'
  | 'list'
  | 'test'
  | 'exec'
  | 'run'
  | 'shell'

/** The plugin with its step names and services known to the type checker. */
export interface ComposePlugin extends Plugin {
  steps: Record<ComposeStepName, Step>
  services(ctx: TaskContext): BerthServices
}

export interface ComposePluginOptions {
  /** Where `compose.logs` and `compose.test` stream; defaults to the process's stdout/stderr. */
  logsOutput?: LogsOutput
}

/**
 * `berth:compose`: runs each instance's Docker Compose project (v2 plugin or v1 binary) under
 * the instance id, with its env and secrets in compose's environment only, and reads status
 * straight from the engine API.
 */
export function composePlugin(options: ComposePluginOptions = {}): ComposePlugin {
  const logsOutput = options.logsOutput ?? { stdout: process.stdout, stderr: process.stderr }
  return {
    name: 'berth:compose',
    version: COMPOSE_PLUGIN_VERSION,
    sections: [composeSection, hooksSection, testSection, workspaceSection],
    steps: {
      lint: composeLintStep,
      render: composeRenderStep,
      up: composeUpStep,
      afterUp: composeAfterUpStep,
      beforeDown: composeBeforeDownStep,
      down: composeDownStep,
      destroy: composeDestroyStep,
      status: composeStatusStep,
      logs: composeLogsStep(logsOutput),
      list: composeListStep,
      test: composeTestStep(logsOutput),
      exec: composeExecStep(logsOutput),
      run: composeRunStep(logsOutput),
      shell: composeShellStep(logsOutput),
    },
    services: composeServices,
    diagnose: diagnoseCompose,
    repair: repairCompose,
  }
}
