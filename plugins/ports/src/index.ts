export { containerHolders, findPortHolders, processHolders } from './holders.js'
export {
  layoutProblems,
  type PortLayout,
  type PortSpec,
  portSpecSchema,
  portsConfigSchema,
  slotPorts,
} from './layout.js'
export { describeHolders, diagnoseLayout, PORTS_VERSION, portsPlugin, slotConflicts } from './plugin.js'
export { busyPorts, probePort } from './probe.js'
