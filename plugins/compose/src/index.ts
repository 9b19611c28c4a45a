export * from './engine.js'
export { projectLogTail } from './engine-logs.js'
export * from './flavour.js'
export { findProjectVolume, type HookState, hookStateFile, isFresh, readHookState } from './hooks/fresh.js'
export { HOOK_OUTPUT_LINES, type HookRun, hookRunSchema, runHook } from './hooks/run-hook.js'
export {
  HOOK_MOMENTS,
  type HookConfig,
  type HookConfigInput,
  type HookMoment,
  type HooksConfig,
  hookSchema,
  hooksConfigSchema,
  hooksSection,
} from './hooks/schema.js'
export { serviceNotReady, waitForServices } from './hooks/wait.js'
export * from './lint/index.js'
export { type ComposeModel, loadComposeModel, parseComposeText } from './model/load.js'
export { formatPortEntry, type PortMapping, parsePortEntry } from './model/ports.js'
export {
  composeOutput,
  containersOutput,
  type E2eReport,
  e2eOutput,
  type InstanceComposeSummary,
  instanceComposeSummarySchema,
  lintOutput,
  logsOutput,
  orphanProjectSchema,
  stateOutput,
} from './outputs.js'
export * from './plugin.js'
export * from './project.js'
export { describeCompose } from './render/describe.js'
export { type InstanceRender, RENDERED_FILE, renderInstanceCompose } from './render/instance.js'
export { listPublishedHostPorts, type PublishedValue, resolvePublished } from './render/published.js'
export {
  formatRendered,
  type RenderChange,
  type RenderedPort,
  type RenderOptions,
  type RenderResult,
  renderModel,
} from './render/render.js'
export {
  DEFAULT_WORKSPACE_IMAGE,
  WORKSPACE_LABEL,
  WORKSPACE_MOUNT,
  WORKSPACE_NETWORK,
} from './render/workspace.js'
export * from './run.js'
export * from './schema.js'
export * from './status.js'
export type { ComposeState } from './steps/context.js'
export { execOutput } from './steps/exec.js'
export { hooksOutput } from './steps/hooks.js'
export type { LogsOutput } from './steps/logs.js'
export { runOutput, shellOutput, WORKSPACE_RUNS_FILE, type WorkspaceRunRecord } from './steps/run.js'
export { composeTestStep, testSettings } from './steps/test.js'
export * from './version.js'
