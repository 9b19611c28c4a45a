/**
 * The KTRDR layout from the reference tool: the default when a config has no `ports` section
 * (and then its gate checks too). Slot N -> API 8000+N, DB 5432+N, Grafana 3000+N, Jaeger UI
 * 16686+N, OTLP gRPC 4317+10N, OTLP HTTP 4318+10N, Prometheus 9090+N, workers 5007+(N-1)*10…+3
 * (5003-5006 for slot 0).
 */
export const KTRDR_PORTS = {
  KTRDR_API_PORT: { base: 8000 },
  KTRDR_DB_PORT: { base: 5432 },
  KTRDR_GRAFANA_PORT: { base: 3000 },
  KTRDR_JAEGER_UI_PORT: { base: 16686 },
  KTRDR_JAEGER_OTLP_GRPC_PORT: { base: 4317, stride: 10 },
  KTRDR_JAEGER_OTLP_HTTP_PORT: { base: 4318, stride: 10 },
  KTRDR_PROMETHEUS_PORT: { base: 9090 },
  KTRDR_WORKER_PORT: { base: 4997, stride: 10, count: 4, slot0: 5003 },
} as const

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
