import { spawn } from 'node:child_process'
import { importExternal } from '@berth/contract'
import { BERTH_TOOLS, type BerthTool } from './tools.js'

export interface McpServerOptions {
  /** The folder the server was started in: tools that are not instance-scoped run here. */
  cwd: string
  version: string
  /** How to start the berth CLI: `[node, bin]`. */
  cli: string[]
  signal?: AbortSignal
}

interface CliAnswer {
  code: number
  document: Record<string, unknown>
}

/** Runs the berth CLI with `--json` and answers its document (an error document when it has none). */
function runCli(options: McpServerOptions, argv: string[], cwd: string): Promise<CliAnswer> {
  return new Promise((resolve) => {
    const [command, ...prefix] = options.cli
    const child = spawn(command!, [...prefix, ...withJson(argv), '--cwd', cwd], {
      cwd,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    child.on('close', (code) => {
      try {
        resolve({ code: code ?? 1, document: JSON.parse(stdout) as Record<string, unknown> })
      } catch {
        const tail = stderr.trim().split('\n').slice(-20).join('\n')
        resolve({ code: code ?? 1, document: { ok: false, error: { message: tail || `berth exited ${code}` } } })
      }
    })
  })
}

/** `--json` goes before a `--` that passes arguments on to a test service. */
function withJson(argv: string[]): string[] {
  const end = argv.indexOf('--')
  return end < 0 ? [...argv, '--json'] : [...argv.slice(0, end), '--json', ...argv.slice(end)]
}

/** The folder of the instance an input names: by id, by the typed name, or by a unique id prefix. */
async function instanceFolder(options: McpServerOptions, name: string): Promise<string> {
  const listed = await runCli(options, ['sandbox', 'list'], options.cwd)
  const instances = (listed.document.instances ?? []) as { id: string; name?: string; path: string }[]
  const exact = instances.find((i) => i.id === name || i.name === name)
  const byPrefix = instances.filter((i) => i.id.startsWith(name) || i.id.endsWith(`-${name}`))
  const found = exact ?? (byPrefix.length === 1 ? byPrefix[0] : undefined)
  if (!found) {
    const known = instances.map((i) => i.id).join(', ') || 'none'
    throw new Error(
      byPrefix.length > 1
        ? `"${name}" matches ${byPrefix.map((i) => i.id).join(', ')}: name one exactly`
        : `no registered instance "${name}" (registered: ${known})`,
    )
  }
  return found.path
}

async function callTool(options: McpServerOptions, tool: BerthTool, input: Record<string, unknown>) {
  try {
    const cwd = tool.scoped ? await instanceFolder(options, String(input.instance)) : options.cwd
    const answer = await runCli(options, tool.argv(input), cwd)
    return {
      content: [{ type: 'text' as const, text: JSON.stringify(answer.document, null, 2) }],
      structuredContent: { exitCode: answer.code, ...answer.document },
      isError: answer.code !== 0,
    }
  } catch (error) {
    return { content: [{ type: 'text' as const, text: (error as Error).message }], isError: true }
  }
}

/**
 * Serves berth's tools over stdio until the client closes the stream (or `signal` aborts).
 * stdout belongs to the protocol: nothing else may write there while it runs.
 */
export async function serveMcp(options: McpServerOptions): Promise<void> {
  const [{ McpServer }, { StdioServerTransport }] = await Promise.all([
    importExternal('@modelcontextprotocol/sdk/server/mcp.js', () => import('@modelcontextprotocol/sdk/server/mcp.js')),
    importExternal(
      '@modelcontextprotocol/sdk/server/stdio.js',
      () => import('@modelcontextprotocol/sdk/server/stdio.js'),
    ),
  ])
  const server = new McpServer({ name: 'berth', version: options.version })
  for (const tool of BERTH_TOOLS) {
    server.registerTool(
      tool.name,
      { title: tool.title, description: tool.description, inputSchema: tool.input, annotations: tool.hints },
      ((input: Record<string, unknown>) => callTool(options, tool, input)) as never,
    )
  }
  const transport = new StdioServerTransport()
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve()
    process.stdin.once('end', () => resolve())
    options.signal?.addEventListener('abort', () => resolve(), { once: true })
  })
  await server.connect(transport)
  await closed
  await server.close().catch(() => undefined)
}
