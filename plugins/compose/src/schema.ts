import { defineSection, lazySchema } from '@berth/contract'
import * as z from 'zod'

const names = lazySchema(() => z.array(z.string().min(1)))

/** `compose.lint`: which parallel-instance hazards to tolerate. */
export const composeLintSchema = lazySchema(() =>
  z
    .strictObject({
      /** Set to false to skip `compose.lint` entirely. */
      enabled: z.boolean().default(true),
      /**
       * Host-exposure findings (a sensitive bind mount, `privileged`, host namespaces, `cap_add`, a
       * port on all interfaces) are errors (exit 2) instead of warnings: turn on in agents' configs.
       * The allow-lists still apply.
       */
      strict: z.boolean().default(false),
      /** Services allowed to publish a literal host port (they can then run in one instance only). */
      allowFixedPorts: names.default([]),
      /** Top-level volumes/networks meant to be shared by all instances (`external: true` or a fixed `name:`). */
      allowShared: names.default([]),
      /**
       * Host paths a service may bind-mount although they are sensitive (the Docker socket, `/etc`,
       * a home folder or its dot folders), as written in the compose file or as the resolved path.
       * The host's `/` can be allowed too, by writing `/`.
       */
      allowMounts: names.default([]),
      /** Services allowed to publish ports on all interfaces (no host IP, `0.0.0.0`, `::`). */
      allowAllInterfaces: names.default([]),
      /** Services allowed host powers (`privileged`, `cap_add`, `pid`/`ipc`/`uts: host`) without a warning. */
      allowHostAccess: names.default([]),
    })
    .prefault({}),
)

/**
 * `compose.observability`: where the instances' telemetry goes. `per-instance` (the default)
 * leaves the compose file's own collector in charge; `shared` points every instance at one
 * collector through `OTEL_EXPORTER_OTLP_ENDPOINT` in compose's environment.
 */
export const composeObservabilitySchema = lazySchema(() =>
  z
    .strictObject({
      mode: z.enum(['per-instance', 'shared']).default('per-instance'),
      /** The shared collector's OTLP endpoint, e.g. `http://host.docker.internal:4318`. */
      endpoint: z.url().optional(),
    })
    .refine((value) => value.mode !== 'shared' || value.endpoint !== undefined, {
      message: 'mode "shared" needs an endpoint (the shared collector\'s OTLP URL)',
      path: ['endpoint'],
    })
    .prefault({}),
)

/**
 * `compose.render`: berth renders the user's compose files into one file per instance (fixed host
 * ports -> the instance's, bound to `hostIp`; no container_name; per-instance names; the identity
 * in every service). `enabled: false` runs the user's files as they are (they must then be
 * parameterised by hand, and lint guards them).
 */
export const composeRenderSchema = lazySchema(() =>
  z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Where published ports bind when the file names no host IP or all interfaces. */
      hostIp: z
        .string()
        .regex(/^[0-9a-fA-F.:]+$/, 'must be an IP address, e.g. 127.0.0.1')
        .default('127.0.0.1'),
      /**
       * Give each instance its own tag of the images the compose files build (`image:` next to
       * `build:`, and every service that runs the same image): `myapp:dev` -> `myapp:dev-<instance id>`.
       * Unset, instances share built images (fast, nothing left behind) and rendering warns that one
       * instance's rebuild changes what the others start next; `false` shares them without the warning.
       */
      instanceImages: z.boolean().optional(),
    })
    .prefault({}),
)

/**
 * `compose.limits`: CPU and memory limits for every service of an instance, written into the
 * rendered compose file as `mem_limit` / `cpus` (read alike by Compose v1 1.29 and v2). A service
 * that sets its own limit (`mem_limit`, `cpus` or `deploy.resources.limits`) keeps it.
 */
export const composeLimitsSchema = lazySchema(() =>
  z
    .strictObject({
      /** Memory per container, as compose writes it: `512m`, `1g`, `268435456`. */
      memory: z
        .string()
        .regex(/^\d+(\.\d+)?[bkmg]?$/i, 'must be a size like 512m or 1g')
        .optional(),
      /** CPUs per container, e.g. 1.5. */
      cpus: z.number().positive().max(1024).optional(),
    })
    .prefault({}),
)

/**
 * The `compose` config section. Users write the lenient form (every key optional); steps read the
 * resolved form. `files` stays optional: its default depends on which file exists in the checkout.
 */
export const composeConfigSchema = lazySchema(() =>
  z
    .strictObject({
      /** Compose files relative to the config root; resolved inside each instance's checkout. */
      files: names.min(1).optional(),
      /** Services `up` starts (default: all). */
      services: names.optional(),
      /** Compose profiles to enable (`--profile`). */
      profiles: names.default([]),
      lint: composeLintSchema,
      render: composeRenderSchema,
      observability: composeObservabilitySchema,
      limits: composeLimitsSchema,
      /**
       * Seconds each container gets to stop when the stack is removed with its volumes (`done`,
       * `destroy`, a rolled-back `impl`): the data goes anyway, so a clean shutdown saves nothing.
       * `down` keeps compose's own grace (10 s, or the service's stop_grace_period).
       */
      destroyGrace: z.number().int().min(0).max(600).default(3),
    })
    .prefault({}),
)

/** What users write in their config. */
export type ComposeConfigInput = z.input<typeof composeConfigSchema>
/** What steps read: defaults filled in. */
export type ComposeConfig = z.output<typeof composeConfigSchema>

/** Config root-relative folder names: no absolute paths, no `..`. */
const relativeFolder = lazySchema(() =>
  z
    .string()
    .min(1)
    .refine((value) => !value.startsWith('/') && !value.split(/[\\/]/).includes('..'), {
      message: "must be a folder inside the instance (relative, no '..')",
    }),
)

/**
 * The `test` config section (owned by the compose plugin, used by `compose.test` / `berth test e2e`):
 * which compose service runs the end-to-end tests and where, inside the instance, its artifacts go.
 */
export const composeTestConfigSchema = lazySchema(() =>
  z
    .strictObject({
      /** The compose service `berth test e2e` runs with `compose run --rm` (override: `--service`). */
      service: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a compose service name')
        .default('e2e'),
      /**
       * Folder inside the instance; each run gets `<folder>/<UTC time>/`, passed to compose as
       * `BERTH_ARTIFACTS_DIR` (absolute) for the service to bind-mount.
       */
      artifacts: relativeFolder.default('.sandbox/artifacts'),
    })
    .prefault({}),
)

export type ComposeTestConfigInput = z.input<typeof composeTestConfigSchema>
export type ComposeTestConfig = z.output<typeof composeTestConfigSchema>
export type ComposeObservability = z.output<typeof composeObservabilitySchema>

/** The `compose` section: files, profiles, services, lint, rendering, observability, grace. */
export const composeSection = defineSection('compose', composeConfigSchema)

/** The `test` section: the end-to-end test service and its artifacts folder. */
export const testSection = defineSection('test', composeTestConfigSchema)

const variableName = lazySchema(() =>
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name'),
)

/**
 * The `workspace` config section (owned by the compose plugin): a confined container per instance
 * where `berth run` / `berth shell` run an agent's commands. Absent: no workspace. Present (even
 * `{}`): every instance's rendered compose file gets the workspace service, unless `enabled: false`.
 * It mounts the instance's checkout at /workspace and nothing else of the host, sits only on an
 * internal network every stack service joins too (services by name, no route elsewhere), and gets
 * the instance's `.env.sandbox` and identity variables plus only the secrets named here.
 */
export const workspaceConfigSchema = lazySchema(() =>
  z
    .strictObject({
      enabled: z.boolean().default(true),
      /**
       * The image to run: default `berth-workspace:local` (git, Node.js, Python 3, curl, a shell;
       * `scripts/build-workspace-image.sh` builds it with no registry). With `dockerfile`, the tag
       * it is built as (default `berth-workspace-<project>:local`).
       */
      image: z
        .string()
        .regex(/^[a-z0-9][a-z0-9._/:@-]*$/, 'must be an image reference, e.g. myteam/tools:1')
        .optional(),
      /** A team's own Dockerfile (relative to the config file; built from its folder when the image is missing). */
      dockerfile: relativeFolder.optional(),
      /** The compose service name the workspace gets (must not be one of the stack's). */
      service: z
        .string()
        .regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a compose service name (lower case)')
        .default('workspace'),
      /** Secret variables (from the `secrets` section) the workspace may see; none by default. */
      secrets: z.array(variableName).default([]),
      /**
       * What the workspace may reach besides the stack: names of networks of the compose files (or
       * `default`, the project's default network, which has the engine's outbound route). Each one
       * is joined in addition to the internal network. Empty: the stack's services and nothing else.
       */
      allow: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'must be a compose network name')).default([]),
    })
    .optional(),
)

export type WorkspaceConfigInput = z.input<typeof workspaceConfigSchema>
export type WorkspaceConfig = NonNullable<z.output<typeof workspaceConfigSchema>>

/** The `workspace` section: the confined container `berth run` / `berth shell` use. */
export const workspaceSection = defineSection('workspace', workspaceConfigSchema)
