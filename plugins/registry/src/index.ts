export {
  type CapSource,
  capacityPaths,
  liveTickets,
  type RunningCap,
  type RunningStack,
  releaseTicket,
  reservePlace,
  runningCap,
  runningProjects,
  type StartTicket,
  stacksHoldingPlaces,
} from './capacity.js'
export { capacityOutput, capacityStep } from './capacity-step.js'
export {
  type ClaimOptions,
  type ClaimResult,
  claimSlot,
  releaseInstance,
  releaseStale,
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
export {
  type BlockingClaim,
  blockingClaimSchema,
  instancesOutput,
  type RegistryUpgrade,
  registryUpgradeOutput,
  registryUpgradeSchema,
  releasedOutput,
  releasedStaleOutput,
  type SkippedSlot,
  type SlotView,
  type StaleRelease,
  skippedSlotSchema,
  skippedSlotsOutput,
  slotsOutput,
  slotViewSchema,
  staleReleaseSchema,
} from './outputs.js'
export { blockingClaims, describeClaim, overlappingClaims } from './overlap.js'
export { REGISTRY_PLUGIN_VERSION, registryPlugin } from './plugin.js'
export { type RepositoryRef, sameRepository } from './repository.js'
export { resolveByCwd, resolveByName } from './resolve.js'
export {
  instanceRecordV1Schema,
  type LimitsConfig,
  limitsConfigSchema,
  limitsSection,
  REGISTRY_VERSION,
  type Registry,
  registrySchema,
  registryV1Schema,
  type SlotsConfig,
  type StoredInstance,
  slotsConfigSchema,
  storedInstanceSchema,
} from './schema.js'
export { slotTable } from './slots.js'
export {
  readRegistry,
  registryPaths,
  registryTarget,
  type StoreOptions,
  updateRegistry,
  writeRegistry,
} from './store.js'
export { type AssumePorts, describeUpgrade, upgradeV1 } from './upgrade.js'
