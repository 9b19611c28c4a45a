export { AttemptTimeout, describeError } from './attempt.js'
export type {
  CheckKind,
  GateCheck,
  HealthyCheck,
  HttpCheck,
  JsonCheck,
  PostgresCheck,
  RedisCheck,
  TcpCheck,
} from './checks.js'
export { resolveCheck, resolveChecks } from './checks.js'
export type { DependencyProblem } from './dependencies.js'
export { findDependencyProblems } from './dependencies.js'
export type { JsonExpectation } from './json-expect.js'
export { jsonExpectationProblem, valueAtPath } from './json-expect.js'
export type { GatePluginOptions } from './plugin.js'
export { gateOutput, gatePlugin, gateSection, LOG_TAIL_LINES } from './plugin.js'
export type { Probe } from './poll.js'
export { POLL, pollCheck } from './poll.js'
export { ProbeError } from './probe-error.js'
export { DecisiveFailure, HealthBoard, healthOf } from './probe-healthy.js'
export { type PostgresProbeOptions, probePostgres } from './probe-postgres.js'
export { probeRedis } from './probe-redis.js'
export type { AttemptOptions } from './probes.js'
export { probeHttp, probeTcp, statusAccepted } from './probes.js'
export { renderGateReport } from './render.js'
export type { CheckResult, GateReport } from './report.js'
export { checkResultSchema, describeGateFailure, formatCheckLine, gateReportSchema } from './report.js'
export type { GateCheckSpec, RunGateOptions } from './run-gate.js'
export { runGate } from './run-gate.js'
export type {
  GateCheckConfig,
  GateCheckInput,
  GateConfig,
  GateConfigInput,
  PostgresCheckConfig,
  RedisCheckConfig,
} from './schema.js'
export {
  CHECK_KEYS,
  DEFAULT_GATE_TIMEOUT_SECONDS,
  gateCheckSchema,
  gateConfigSchema,
  gateExpectSchema,
  parseGateConfig,
  postgresCheckSchema,
  redisCheckSchema,
} from './schema.js'
export { isLoopbackHost, parseHttpTarget, parseTcpTarget } from './targets.js'
export { resolveTimeoutMs, timeoutFlag, timeoutSecondsSchema } from './timeout-flag.js'
export { GATE_VERSION } from './version.js'
