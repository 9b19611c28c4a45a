/**
 * Child processes, timed with the monotonic clock. Every measured command is spawned directly
 * (no shell), with stdout and stderr piped and collected, so berth and its baseline pay the same
 * spawn and pipe costs.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** Clock ticks per second of /proc's times (USER_HZ; 100 on every mainstream Linux build). */
const USER_HZ = 100

/**
 * CPU time (user + system, ms) of every child this process has waited for, from /proc/self/stat
 * (cutime + cstime; 10 ms resolution). The difference around one child is that child's CPU time
 * when no other child ends meanwhile. NaN where /proc is missing.
 */
export function childrenCpuMs() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / USER_HZ
  } catch {
    return Number.NaN
  }
}

/** Milliseconds between two `process.hrtime.bigint()` readings. */
export function elapsedMs(startNs, endNs = process.hrtime.bigint()) {
  return Number(endNs - startNs) / 1e6
}

/**
 * Runs `command args` and resolves when it has exited and its output is closed.
 * Never rejects for a non-zero exit: the caller decides (see {@link expectOk}).
 *
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs?: number, onStderr?: (text: string) => void }} [options]
 * @returns {Promise<{ command: string, args: string[], code: number | null, signal: string | null,
 *   stdout: string, stderr: string, startNs: bigint, endNs: bigint, ms: number, cpuMs: number }>}
 */
export function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuMs()
    const startNs = process.hrtime.bigint()
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stdout.on('data', (chunk) => {
      stdout += chunk
    })
    child.stderr.on('data', (chunk) => {
      stderr += chunk
      options.onStderr?.(chunk)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      const endNs = process.hrtime.bigint()
      clearTimeout(timer)
      const cpuMs = childrenCpuMs() - cpuBefore
      resolve({ command, args, code, signal, stdout, stderr, startNs, endNs, ms: elapsedMs(startNs, endNs), cpuMs })
    })
  })
}

/** Throws with the command's output unless it exited 0. Returns the result. */
export function expectOk(result, what = `${result.command} ${result.args.join(' ')}`) {
  if (result.code === 0) return result
  const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-25).join('\n')
  throw new Error(`${what} exited ${result.code ?? result.signal}:\n${tail}`)
}

/** `run` + `expectOk`. */
export async function runOk(command, args, options = {}) {
  return expectOk(await run(command, args, options))
}

/** Parses a `--json` stdout, with the output in the error when it is not JSON. */
export function parseJson(result) {
  try {
    return JSON.parse(result.stdout)
  } catch {
    throw new Error(`${result.command} ${result.args.join(' ')}: stdout is not JSON:\n${result.stdout.slice(0, 2000)}`)
  }
}

/** Runs `tasks` (functions returning promises) with at most `limit` in flight; results in order. */
export async function mapLimit(items, limit, task) {
  const results = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index], index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}
