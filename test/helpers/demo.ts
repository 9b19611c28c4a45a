/**
 * Fixtures for end-to-end tests of running stacks: a git repository holding a copy of
 * examples/demo and a berth config (the repository's own, with the test's ports), the Docker
 * engine API over its unix socket (node:http, no `docker` process per question), a PostgreSQL
 * login from the host, and a CLI runner that timestamps every stderr line.
 */
import { execFile, spawn } from 'node:child_process'
import { cpSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { BERTH_BIN, type BerthResult, berthEnv, type GitFixture, git, gitRepo, REPO_ROOT } from './index.js'

const execFileAsync = promisify(execFile)

export const DEMO_DIR = join(REPO_ROOT, 'examples/demo')
/** The greeting `examples/demo/backend/server.mjs` ships with. */
export const DEMO_GREETING = 'hello from berth demo'
export const PROJECT_LABEL = 'com.docker.compose.project'

/** Builds the shared demo images (`berth-demo-<svc>:real`, the real services' images); a no-op when up to date. */
export async function buildDemoImages(): Promise<void> {
  await execFileAsync('bash', [join(DEMO_DIR, 'images/build.sh')], { timeout: 600_000 })
}

/**
 * Host ports of one test repository: a block of 100 ports from `block` (40000-50000), so slots
 * 1-3 of different repositories never collide. `block + 99` is never published by anything.
 */
export function demoPorts(
  block: number,
): Record<string, { base: number; stride?: number; count?: number; slot0?: number }> {
  return {
    KTRDR_API_PORT: { base: block },
    KTRDR_DB_PORT: { base: block + 10 },
    KTRDR_JAEGER_UI_PORT: { base: block + 20 },
    // slot N -> block + 40 + 10N … +3 (slot 3 ends at block + 73)
    KTRDR_WORKER_PORT: { base: block + 40, stride: 10, count: 4 },
    KTRDR_PROMETHEUS_PORT: { base: block + 80 },
    DEMO_REDIS_PORT: { base: block + 90 },
  }
}

/** The repository's own berth.config.json: the demo's secrets, hooks and gate as users get them. */
// biome-ignore lint/suspicious/noExplicitAny: the tests read fields of the config file directly
export function rootConfig(): Record<string, any> {
  return JSON.parse(readFileSync(join(REPO_ROOT, 'berth.config.json'), 'utf8'))
}

/**
 * A berth config for the demo stack: the repository's own (secrets with 1Password and defaults,
 * the migrate and seed hooks, the gate on real PostgreSQL, Redis, HTTP and Prometheus), with this
 * test's project, ports, pool, 1Password item and a 90 s gate; `extraChecks` are added to the gate.
 */
export function demoConfig(project: string, block: number, extraChecks: object[] = []): Record<string, unknown> {
  const root = rootConfig()
  return {
    project,
    compose: { files: ['compose.yaml'] },
    ports: demoPorts(block),
    slots: { pool: [1, 2, 3] },
    secrets: { ...root.secrets, item: 'demo-item' },
    hooks: root.hooks,
    gate: { ...root.gate, timeout: 90, checks: [...root.gate.checks, ...extraChecks] },
  }
}

/** The 1Password item the stand-in `op` serves for `demoConfig` (fields as berth.config.json maps them). */
export function demoItem(values: { db: string; redis?: string; apiKey?: string }): Record<string, unknown> {
  return {
    db_password: { value: values.db, type: 'CONCEALED' },
    redis_password: { value: values.redis ?? 'test-queue-password', type: 'CONCEALED' },
    api_key: { value: values.apiKey ?? 'test-api-key', type: 'CONCEALED' },
  }
}

/**
 * `<parent>/origin.git` and `<parent>/<name>`: a clone whose pushed `main` holds a copy of
 * examples/demo (as it is, modes included) plus `berth.config.json`. `edit` may change files
 * of the copy before the commit (e.g. break compose.yaml on purpose).
 */
export async function demoRepo(
  parent: string,
  name: string,
  config: unknown,
  edit?: (repo: string) => void,
): Promise<GitFixture> {
  const fixture = await gitRepo(parent, name)
  cpSync(DEMO_DIR, fixture.repo, {
    recursive: true,
    filter: (source) => !/[/\\](\.sandbox|node_modules)$/.test(source),
  })
  writeFileSync(join(fixture.repo, 'berth.config.json'), `${JSON.stringify(config, null, 2)}\n`)
  edit?.(fixture.repo)
  await git(fixture.repo, 'add', '-A')
  await git(fixture.repo, 'commit', '-q', '-m', 'the demo stack')
  await git(fixture.repo, 'push', '-q', 'origin', 'main')
  return fixture
}

/** `KEY=value` lines of an `.env.sandbox`. */
export function readEnvFile(path: string): Record<string, string> {
  const values: Record<string, string> = {}
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim())
    if (match) values[match[1]!] = match[2]!
  }
  return values
}

/** 1-based number of the first line of `text` containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((line) => line.includes(needle))
  if (index < 0) throw new Error(`no line contains ${JSON.stringify(needle)}`)
  return index + 1
}

/** Every regular file under `dir` (symlinks not followed). */
export function walkFiles(dir: string): string[] {
  const files: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name)
    if (entry.isDirectory()) files.push(...walkFiles(full))
    else if (entry.isFile()) files.push(full)
  }
  return files
}

// ---------------------------------------------------------------------------------------------
// The Docker engine API

function socketPath(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST
  return host?.startsWith('unix://') ? host.slice('unix://'.length) : '/var/run/docker.sock'
}

/** One request to the engine API; rejects on a status >= 400 (404 included) or no engine. */
export function engine<T = unknown>(path: string, method: 'GET' | 'POST' | 'DELETE' = 'GET'): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socketPath(), path, method, timeout: 10_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 400) {
          reject(
            Object.assign(new Error(`engine ${method} ${path}: ${res.statusCode} ${body.trim()}`), {
              status: res.statusCode,
            }),
          )
          return
        }
        try {
          resolve((body ? JSON.parse(body) : undefined) as T)
        } catch {
          resolve(body as T)
        }
      })
    })
    req.on('timeout', () => req.destroy(new Error(`engine ${method} ${path}: no answer in 10 s`)))
    req.on('error', (error) => reject(new Error(`Docker engine not reachable at ${socketPath()}: ${error.message}`)))
    req.end()
  })
}

const labelFilter = (project: string) => encodeURIComponent(JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`] }))

export interface EngineContainer {
  Id: string
  Names: string[]
  State: string
  Labels: Record<string, string>
  Ports: { IP?: string; PrivatePort: number; PublicPort?: number; Type: string }[]
}

export interface ProjectObjects {
  containers: EngineContainer[]
  volumes: { Name: string; CreatedAt: string; Labels: Record<string, string> | null }[]
  networks: { Id: string; Name: string }[]
}

/** Containers (any state), volumes and networks labelled with one compose project. */
export async function projectObjects(project: string): Promise<ProjectObjects> {
  const filter = labelFilter(project)
  const [containers, volumes, networks] = await Promise.all([
    engine<EngineContainer[]>(`/containers/json?all=1&filters=${filter}`),
    engine<{ Volumes: ProjectObjects['volumes'] | null }>(`/volumes?filters=${filter}`),
    engine<ProjectObjects['networks']>(`/networks?filters=${filter}`),
  ])
  return { containers, volumes: volumes.Volumes ?? [], networks }
}

/** The number of objects labelled with `project`, by kind, for an assertion message. */
export async function countProjectObjects(
  project: string,
): Promise<{ containers: number; volumes: number; networks: number }> {
  const found = await projectObjects(project)
  return { containers: found.containers.length, volumes: found.volumes.length, networks: found.networks.length }
}

export interface PortBinding {
  HostIp: string
  HostPort: string
}

/** The subset of `GET /containers/<id>/json` the tests read. */
export interface ContainerInspect {
  Id: string
  Name: string
  Config: { Env: string[] | null }
  HostConfig: { PortBindings: Record<string, PortBinding[] | null> | null }
  NetworkSettings: { Ports: Record<string, PortBinding[] | null> | null }
}

/** `GET /containers/<id>/json`. */
export function inspectContainer(id: string): Promise<ContainerInspect> {
  return engine<ContainerInspect>(`/containers/${encodeURIComponent(id)}/json`)
}

/** Every host-port binding of a container: as configured and as live on the engine. */
export function hostBindings(inspected: ContainerInspect): PortBinding[] {
  const lists = [
    ...Object.values(inspected.HostConfig.PortBindings ?? {}),
    ...Object.values(inspected.NetworkSettings.Ports ?? {}),
  ]
  return lists.flatMap((list) => list ?? [])
}

/** The container of `service` in compose project `project`. */
export async function serviceContainer(project: string, service: string): Promise<EngineContainer> {
  const filters = encodeURIComponent(
    JSON.stringify({ label: [`${PROJECT_LABEL}=${project}`, `com.docker.compose.service=${service}`] }),
  )
  const [container] = await engine<EngineContainer[]>(`/containers/json?all=1&filters=${filters}`)
  if (!container) throw new Error(`no container of service ${service} in project ${project}`)
  return container
}

/**
 * Safety net: removes every container, network and volume labelled with `project` through the
 * engine API. Only ever called with project names a test made itself.
 */
export async function removeProject(project: string): Promise<void> {
  const found = await projectObjects(project)
  const quiet = (promise: Promise<unknown>) => promise.catch(() => {})
  await Promise.all(found.containers.map((c) => quiet(engine(`/containers/${c.Id}?force=1&v=1`, 'DELETE'))))
  await Promise.all(found.networks.map((n) => quiet(engine(`/networks/${n.Id}`, 'DELETE'))))
  await Promise.all(found.volumes.map((v) => quiet(engine(`/volumes/${encodeURIComponent(v.Name)}?force=1`, 'DELETE'))))
}

// ---------------------------------------------------------------------------------------------
// HTTP and TCP against published ports

/** GET a JSON document from a URL on this machine (5 s limit). */
// biome-ignore lint/suspicious/noExplicitAny: the tests read fields of the APIs' answers directly
export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5000) })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {}
  return { status: response.status, body }
}

/** Polls `probe` every 250 ms until it returns true or `ms` pass; returns whether it did. */
export async function waitFor(probe: () => Promise<boolean>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    try {
      if (await probe()) return true
    } catch {}
    if (Date.now() >= deadline) return false
    await new Promise((r) => setTimeout(r, 250))
  }
}

/**
 * One SQL statement against the demo's PostgreSQL on 127.0.0.1:port as `demo` (a real login from
 * the host, through the `pg` client): resolves the rows, rejects with PostgreSQL's error (`code`
 * 28P01 for a refused password).
 */
export async function pgQuery(
  port: number,
  password: string,
  sql: string,
  params: unknown[] = [],
): Promise<Record<string, unknown>[]> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'demo',
    database: 'demo',
    password,
    connectionTimeoutMillis: 5000,
  })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query(sql, params)).rows
  } finally {
    await client.end().catch(() => {})
  }
}

// ---------------------------------------------------------------------------------------------
// The CLI with timed stderr

export interface TimedResult extends BerthResult {
  startedAt: number
  endedAt: number
  /** Every stderr line with the time (ms, Date.now()) it arrived. */
  lines: { at: number; text: string }[]
  /** When the first stderr line matching `pattern` arrived. */
  lineAt(pattern: RegExp): number | undefined
}

/** Like `berth()` from ./index.js, also timestamping each stderr line as it arrives. */
export function berthTimed(
  args: string[],
  options: { cwd: string; home: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<TimedResult> {
  return new Promise((resolve, reject) => {
    const startedAt = Date.now()
    const child = spawn(process.execPath, [BERTH_BIN, ...args], {
      cwd: options.cwd,
      env: berthEnv(options.home, options.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let partial = ''
    const lines: { at: number; text: string }[] = []
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => {
      stderr += chunk
      partial += chunk
      const parts = partial.split('\n')
      partial = parts.pop() ?? ''
      for (const text of parts) lines.push({ at: Date.now(), text })
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const endedAt = Date.now()
      if (partial) lines.push({ at: endedAt, text: partial })
      let json: unknown
      if (args.includes('--json')) {
        try {
          json = JSON.parse(stdout)
        } catch {}
      }
      resolve({
        code: code ?? -1,
        stdout,
        stderr,
        json,
        startedAt,
        endedAt,
        lines,
        lineAt: (pattern) => lines.find((line) => pattern.test(line.text))?.at,
      })
    })
  })
}

/** Size of a file, or -1 when it cannot be read (for skipping huge or vanished files). */
export function fileSize(path: string): number {
  try {
    return statSync(path).size
  } catch {
    return -1
  }
}
