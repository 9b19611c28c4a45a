export {
  type ClaimOptions,
  type ClaimResult,
  claimSlot,
  releaseInstance,
  releaseStale,
  type SkippedSlot,
  type StaleRelease,
} from './claim.js'
export {
  acquireInstanceLock,
  type InstanceLockHolder,
  instanceLockHolder,
  instanceLockPath,
  releaseInstanceLock,
  staleInstanceLocks,
} from './instance-lock.js'
export { ownerAlive, processStartTime, withLock } from './lock.js'
export { type BlockingClaim, blockingClaims, describeClaim, overlappingClaims } from './overlap.js'
export { REGISTRY_PLUGIN_VERSION, registryPlugin } from './plugin.js'
export { type RepositoryRef, sameRepository } from './repository.js'
export { resolveByCwd, resolveByName } from './resolve.js'
export {
  instanceRecordSchema,
  instanceRecordV1Schema,
  REGISTRY_VERSION,
  type Registry,
  registrySchema,
  registryV1Schema,
  type SlotsConfig,
  type StoredInstance,
  slotsConfigSchema,
} from './schema.js'
export { type SlotView, slotTable } from './slots.js'
export {
  readRegistry,
  registryPaths,
  registryTarget,
  type StoreOptions,
  updateRegistry,
  writeRegistry,
} from './store.js'
export { type AssumePorts, describeUpgrade, type RegistryUpgrade, upgradeV1 } from './upgrade.js'
