import type { InferredConfig } from './setup-infer.js'

/** The starter configs `berth setup` writes as `berth.config.ts`. */

const HEAD = `// berth config — see 'berth config schema' for every key, 'berth config show' for what is in force.
import type { BerthUserConfig } from 'berth'
`

const SECRETS_EXAMPLE = (project: string, indent = '  ') =>
  [
    '// Secrets from 1Password reach only the environment of compose, never a file. For example:',
    '// secrets: {',
    "//   provider: '1password',",
    `//   item: '${project}-dev',`,
    "//   fields: { db_password: 'DB_PASSWORD' },",
    '//   // used (with one warning) when op is missing or --no-secrets is given',
    "//   defaults: { DB_PASSWORD: 'localdev' },",
    '// },',
  ]
    .map((line) => `${indent}${line}`)
    .join('\n')

export function ktrdrConfig(project: string, files: string[]): string {
  return `${HEAD}
export default {
  // Folder prefix and compose project prefix: ../${project}-impl-<feature>
  project: '${project}',
  compose: { files: ${list(files)} },
  // impl claims the lowest free pool slot; --slot N takes one of the others (up to max).
  slots: { pool: [1, 2], max: 10 },
  // No 'ports' section: the KTRDR preset applies (slot N -> API 8000+N, DB 5432+N, Grafana 3000+N,
  // Jaeger UI 16686+N, OTLP 4317+10N/4318+10N, Prometheus 9090+N, workers 5007+(N-1)*10..+3) together
  // with its gate (db TCP, backend /api/v1/health, 4 workers, observability UI).
  secrets: {
    provider: '1password',
    item: '${project}-sandbox-dev',
    fields: { db_password: 'DB_PASSWORD' },
    // Used (with one warning) when op is missing or --no-secrets is given; local-prod refuses instead.
    defaults: { DB_PASSWORD: 'localdev' },
  },
} satisfies BerthUserConfig
`
}

export function minimalConfig(project: string, files: string[]): string {
  const compose = files[0] ?? 'compose.yaml'
  return `${HEAD}
export default {
  // Folder prefix and compose project prefix: ../${project}-impl-<feature>
  project: '${project}',
  compose: { files: ${list(files.length > 0 ? files : [compose])} },
  slots: { pool: [1, 2], max: 10 },
  // Host ports: each variable is base + slot * stride. berth renders ${compose} per instance: a
  // published "9100:8000" becomes 127.0.0.1:\${API_PORT}:8000 (the variable whose base is 9100).
  ports: {
    API_PORT: { base: 9100 },
  },
${SECRETS_EXAMPLE(project)}
  secrets: { provider: 'none' },
  gate: {
    timeout: 60,
    checks: [
      // { name: 'api', http: 'http://127.0.0.1:\${API_PORT}/health', service: 'api' },
    ],
  },
} satisfies BerthUserConfig
`
}

/** A config written from the stack's compose files, each inference commented with its reason. */
export function inferredConfig(project: string, files: string[], inferred: InferredConfig): string {
  const ports = Object.entries(inferred.ports).map(
    ([name, rule]) =>
      `    ${name}: { base: ${rule.base}, stride: ${rule.stride}${rule.count ? `, count: ${rule.count}` : ''} }, // ${rule.reason}`,
  )
  const checks = inferred.checks.map(({ check, reason }) => `      // ${reason}\n      ${literal(check)},`)
  return `${HEAD}
${commentLines(
  `Written by 'berth setup' from ${files.join(', ')}: your compose files stay as they are. berth renders them per instance (.sandbox/compose.yaml, see 'berth compose config'): each published host port becomes this instance's port on 127.0.0.1, container_name goes, and every service gets INSTANCE_ID, SLOT_NUMBER, OTEL_RESOURCE_ATTRIBUTES and berth.* labels.`,
)}
export default {
  // Folder prefix and compose project prefix: ../${project}-impl-<feature>
  project: '${project}',
  compose: { files: ${list(files)} },
  // impl claims the lowest free pool slot; --slot N takes one of the others (up to max).
  slots: { pool: [1, 2], max: 10 },
  // One variable per published host port: base = today's port (slot 0), slot N = base + stride×N.
  ports: {
${ports.length > 0 ? ports.join('\n') : '    // (the compose files publish no host port)'}
  },
${inferred.urlPortVar ? `  // 'berth url' and impl's output: the first service that serves HTTP.\n  url: { portVar: '${inferred.urlPortVar}' },\n` : ''}  gate: {
    timeout: 120,
    checks: [
${checks.length > 0 ? checks.join('\n') : '      // (nothing to wait for: no healthcheck and no published port)'}
    ],
  },
${SECRETS_EXAMPLE(project)}
  secrets: { provider: 'none' },
} satisfies BerthUserConfig
`
}

function list(items: string[]): string {
  return `[${items.map((item) => `'${item}'`).join(', ')}]`
}

/** A plain object as a one-line TypeScript literal with single-quoted strings. */
function literal(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`
  if (value && typeof value === 'object') {
    return `{ ${Object.entries(value)
      .map(([key, item]) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? key : `'${key}'`}: ${literal(item)}`)
      .join(', ')} }`
  }
  if (typeof value === 'string') return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`
  return String(value)
}

/** `text` as `// ` comment lines of at most 100 characters, broken between words. */
function commentLines(text: string, width = 100): string {
  const lines: string[] = []
  let line = '//'
  for (const word of text.split(' ')) {
    if (line.length + 1 + word.length > width && line !== '//') {
      lines.push(line)
      line = '//'
    }
    line += ` ${word}`
  }
  lines.push(line)
  return lines.join('\n')
}
