import { lazySchema } from '@berth/contract'
/**
 * berth's commands as Model Context Protocol tools: typed inputs (zod), the argv each call runs,
 * and hints for the agent (read-only, destructive). Each call runs the real CLI with `--json`, so
 * a tool answers exactly the document `berth <command> --json` prints, with the same exit codes.
 */
import * as z from 'zod'

export interface ToolHints {
  readOnlyHint?: boolean
  destructiveHint?: boolean
  idempotentHint?: boolean
}

export interface BerthTool {
  name: string
  title: string
  description: string
  input: z.ZodRawShape
  hints: ToolHints
  /**
   * The CLI words for one call. `instance` tools run inside the instance's folder (found with
   * `sandbox list`); the others in the server's folder.
   */
  argv(input: Record<string, unknown>): string[]
  /** The tool acts on one registered instance, named by its `instance` input. */
  scoped?: boolean
}

const instance = lazySchema(() =>
  z
    .string()
    .min(1)
    .describe('the instance: its id (e.g. shop-impl-cart), the feature name given to impl, or a unique prefix'),
)
const timeout = lazySchema(() =>
  z.number().positive().optional().describe('gate deadline in seconds (default: config gate.timeout)'),
)
const queue = lazySchema(() =>
  z
    .boolean()
    .optional()
    .describe('with a cap on running stacks reached: wait for one to stop instead of failing (exit 3)'),
)
const queueTimeout = lazySchema(() =>
  z.number().positive().optional().describe('with queue: give up after this many seconds (default 1800)'),
)
const opt = (flag: string, value: unknown) => (value === undefined ? [] : [flag, String(value)])
const on = (flag: string, value: unknown) => (value === true ? [flag] : [])

export const BERTH_TOOLS: BerthTool[] = [
  {
    name: 'impl',
    title: 'Create an instance',
    description:
      'Create a worktree ../<project>-impl-<name> on branch impl/<name>, claim a slot, write .env.sandbox, start the stack and run the startability gate. On failure everything made is undone.',
    input: {
      name: z.string().min(1).describe('the feature name, e.g. cart or genome/M1'),
      slot: z.number().int().min(0).optional().describe('a manual slot instead of the lowest free pool slot'),
      from: z.string().optional().describe("start the branch from this ref (default: the remote's default branch)"),
      branch: z
        .string()
        .optional()
        .describe("check out this existing branch (local or the remote's) instead of creating impl/<name>"),
      profile: z.string().optional().describe("the config's slot profile to run (e.g. light, heavy)"),
      noUp: z.boolean().optional().describe('create and register only; start later with up'),
      timeout,
      queue,
      queueTimeout,
    },
    hints: { destructiveHint: false },
    argv: (i) => [
      'impl',
      String(i.name),
      ...opt('--slot', i.slot),
      ...opt('--from', i.from),
      ...opt('--branch', i.branch),
      ...opt('--profile', i.profile),
      ...on('--no-up', i.noUp),
      ...opt('--timeout', i.timeout),
      ...on('--queue', i.queue),
      ...opt('--queue-timeout', i.queueTimeout),
    ],
  },
  {
    name: 'list',
    title: 'List instances',
    description: 'Every registered instance of this project: slot, state, running/total containers, API port, age.',
    input: {},
    hints: { readOnlyHint: true },
    argv: () => ['sandbox', 'list'],
  },
  {
    name: 'status',
    title: 'Instance status',
    description: "One instance's containers with their state and health, its ports and URLs.",
    input: { instance },
    hints: { readOnlyHint: true },
    scoped: true,
    argv: () => ['sandbox', 'status'],
  },
  {
    name: 'url',
    title: 'API URL',
    description: "The instance's API URL (from its .env.sandbox).",
    input: { instance },
    hints: { readOnlyHint: true },
    scoped: true,
    argv: () => ['url'],
  },
  {
    name: 'logs',
    title: 'Service logs',
    description: "The last lines of the instance's service logs, secrets redacted.",
    input: {
      instance,
      service: z.string().optional().describe('one compose service (default: all)'),
      tail: z.number().int().positive().max(10_000).default(200).describe('lines per service'),
    },
    hints: { readOnlyHint: true },
    scoped: true,
    argv: (i) => ['sandbox', 'logs', ...(i.service ? [String(i.service)] : []), ...opt('--tail', i.tail)],
  },
  {
    name: 'up',
    title: 'Start an instance',
    description:
      "Start the instance's stack (secrets, compose up) and run the gate; a failed gate leaves it running for inspection.",
    input: { instance, timeout, build: z.boolean().optional().describe('rebuild images first'), queue, queueTimeout },
    hints: { destructiveHint: false, idempotentHint: true },
    scoped: true,
    argv: (i) => [
      'sandbox',
      'up',
      ...opt('--timeout', i.timeout),
      ...on('--build', i.build),
      ...on('--queue', i.queue),
      ...opt('--queue-timeout', i.queueTimeout),
    ],
  },
  {
    name: 'gate',
    title: 'Run the startability gate',
    description: "Run the instance's startability gate alone: every check, with the log tail of failing services.",
    input: { instance, timeout },
    hints: { readOnlyHint: true },
    scoped: true,
    argv: (i) => ['gate', ...opt('--timeout', i.timeout)],
  },
  {
    name: 'test_e2e',
    title: 'End-to-end tests',
    description: "Run the stack's test service (compose run --rm) on the instance's network; its exit code decides.",
    input: {
      instance,
      service: z.string().optional().describe('the test service (default: config test.service, e2e)'),
      args: z.array(z.string()).default([]).describe('arguments passed to the test service'),
    },
    hints: { destructiveHint: false },
    scoped: true,
    argv: (i) => [
      'test',
      'e2e',
      ...opt('--service', i.service),
      ...((i.args as string[]).length > 0 ? ['--', ...(i.args as string[])] : []),
    ],
  },
  {
    name: 'run',
    title: 'Run a command in the workspace',
    description:
      "Run a command in the instance's workspace container (needs a workspace section in the config): its checkout at /workspace and no other host path, the stack's services by name (e.g. http://backend:8000), no route elsewhere unless workspace.allow says so, only the secrets workspace.secrets names. Answers {command, exitCode, durationMs, output} under run (output redacted); the exit code is the command's. Recorded in the evidence bundle.",
    input: {
      instance,
      command: z.array(z.string()).min(1).describe('the command and its arguments, e.g. ["sh", "-c", "npm test"]'),
    },
    hints: { destructiveHint: false },
    scoped: true,
    argv: (i) => ['run', '--', ...(i.command as string[])],
  },
  {
    name: 'evidence',
    title: 'Evidence bundle',
    description:
      'Write an evidence bundle (config, .env.sandbox, gate report, containers, logs, git state), secrets redacted.',
    input: { instance },
    hints: { destructiveHint: false },
    scoped: true,
    argv: () => ['evidence'],
  },
  {
    name: 'done',
    title: 'Finish an instance',
    description:
      'Stop the stack, remove its volumes, remove the worktree (the branch stays) and release the slot. Refuses when the worktree holds uncommitted or unpushed work unless force is set — then that work is lost.',
    input: {
      name: z.string().min(1).describe('the instance: feature name, id or unique prefix'),
      force: z.boolean().optional().describe('remove even with uncommitted or unpushed work (it is lost)'),
      dryRun: z.boolean().optional().describe('only say what would be done'),
    },
    hints: { destructiveHint: true },
    argv: (i) => ['done', String(i.name), ...on('--force', i.force), ...on('--dry-run', i.dryRun)],
  },
]
