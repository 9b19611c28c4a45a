// The preset alone (not the plugin: its probes load node:net), issue 16.
import { KTRDR_PORTS } from '@berth/ports/preset'

export { KTRDR_PORTS }

/** The reference tool's startability gate: database TCP, backend health, 4 workers, observability UI. */
export const KTRDR_GATE = {
  timeout: 120,
  checks: [
    { name: 'db', tcp: '${KTRDR_DB_PORT}', service: 'db' },
    { name: 'backend', http: 'http://127.0.0.1:${KTRDR_API_PORT}/api/v1/health', service: 'backend' },
    {
      name: 'workers',
      http: 'http://127.0.0.1:${KTRDR_API_PORT}/api/v1/workers',
      expect: { minItems: 4 },
      after: ['backend'],
      service: 'backend',
    },
    { name: 'observability', http: 'http://127.0.0.1:${KTRDR_JAEGER_UI_PORT}/', service: 'observability' },
  ],
}

/** Fills preset sections into the user's raw config: the KTRDR ports (and gate) when `ports` is absent. */
export function applyPresets(raw: Record<string, unknown>, sections: Set<string>): Record<string, unknown> {
  if (raw.ports !== undefined || !sections.has('ports')) return raw
  const gate = raw.gate === undefined && sections.has('gate') ? { gate: KTRDR_GATE } : {}
  return { ...raw, ports: KTRDR_PORTS, ...gate }
}
