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
export * from './plugin.js'
export * from './project.js'
export * from './run.js'
export * from './schema.js'
export * from './status.js'
export type { ComposeState } from './steps/context.js'
export { execOutput } from './steps/exec.js'
export { hooksOutput } from './steps/hooks.js'
export type { InstanceComposeSummary } from './steps/list.js'
export { type LogsOutput, parseTail } from './steps/logs.js'
export { composeTestStep, type E2eReport, listFiles, testSettings, utcStamp } from './steps/test.js'
export * from './version.js'
