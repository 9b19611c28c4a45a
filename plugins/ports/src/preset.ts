import { type PortLayout, portsConfigSchema, slotPorts } from './layout.js'

/**
 * The KTRDR layout from the reference tool, berth's default: the runner fills it in when a config
 * has no `ports` section, and the registry assumes it for a claim whose ports cannot be known.
 * Slot N -> API 8000+N, DB 5432+N, Grafana 3000+N, Jaeger UI 16686+N, OTLP gRPC 4317+10N,
 * OTLP HTTP 4318+10N, Prometheus 9090+N, workers 5007+(N-1)*10…+3 (5003-5006 for slot 0).
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

let defaultLayout: PortLayout | undefined

/** {@link KTRDR_PORTS} with the schema's defaults filled in (parsed on first use, not at load). */
export function defaultPortLayout(): PortLayout {
  defaultLayout ??= portsConfigSchema.parse(KTRDR_PORTS)
  return defaultLayout
}

/** Host ports of `slot` in the default layout. */
export function defaultSlotPorts(slot: number): Record<string, number> {
  return slotPorts(defaultPortLayout(), slot)
}
