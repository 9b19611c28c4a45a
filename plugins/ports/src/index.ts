export { describeHolders, diagnoseLayout, portConflicts, slotConflicts } from './conflicts.js'
export {
  type DerivedPorts,
  derivedPortName,
  derivedPortsSchema,
  derivedPortsSection,
  derivedProblems,
  derivedSlotPorts,
  derivedVariables,
  nameHostPorts,
} from './derived.js'
export { assertEnvMatchesClaim, type EnvPortMismatch, envPortMismatches } from './env-ports.js'
export { containerHolders, findPortHolders, processHolders } from './holders.js'
export {
  layoutProblems,
  type PortLayout,
  type PortSpec,
  portSpecSchema,
  portsConfigSchema,
  portsSection,
  slotPorts,
} from './layout.js'
export { PORTS_VERSION, portsOutput, portsPlugin } from './plugin.js'
export { defaultPortLayout, defaultSlotPorts, KTRDR_PORTS } from './preset.js'
export { busyPorts, listeningPorts, probePort } from './probe.js'
export { type SlotPortSource, slotPortSource } from './slot-ports.js'
