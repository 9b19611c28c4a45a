export {
  type ClaimOptions,
  type ClaimResult,
  claimSlot,
  releaseInstance,
  releaseStale,
  type SkippedSlot,
  type StaleRelease,
} from './claim.js'
export { ownerAlive, processStartTime, withLock } from './lock.js'
export { REGISTRY_PLUGIN_VERSION, registryPlugin } from './plugin.js'
export { resolveByCwd, resolveByName } from './resolve.js'
export {
  instanceRecordSchema,
  REGISTRY_VERSION,
  type Registry,
  registrySchema,
  type SlotsConfig,
  type StoredInstance,
  slotsConfigSchema,
} from './schema.js'
export { readRegistry, registryPaths, updateRegistry, writeRegistry } from './store.js'
