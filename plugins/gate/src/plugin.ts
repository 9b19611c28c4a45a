import { defineStep, type Plugin } from '@berth/contract'
import { gateOutput, gateSection, waitFlags } from './declarations.js'
import { GATE_VERSION } from './version.js'
import { passGateChecks, waitForGate } from './wait.js'

export { gateOutput, gateSection } from './declarations.js'

/** Lines of each failing service's log shown with a failed gate. */
export const LOG_TAIL_LINES = 30

export interface GatePluginOptions {
  /** Log lines per failing service; default 30. */
  logTail?: number
}

/** The startability gate: `gate.wait` proves a started stack is healthy. */
export function gatePlugin(options: GatePluginOptions = {}): Plugin {
  const logTail = options.logTail ?? LOG_TAIL_LINES
  return {
    name: 'berth:gate',
    version: GATE_VERSION,
    sections: [gateSection],
    steps: {
      // No undo: the gate only looks; it changes nothing.
      wait: defineStep({
        description:
          'wait until every gate check passes (tcp / http / json / postgres / redis / healthy), or fail with the log tail',
        flags: waitFlags,
        config: gateSection,
        outputs: [gateOutput],
        run: (ctx) => waitForGate(ctx, logTail),
      }),
    },
    services: (ctx) => ({
      passGateChecks: (names) => passGateChecks(ctx, names, logTail),
    }),
  }
}
