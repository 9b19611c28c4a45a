import { randomBytes } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { BUSYBOX_TEST_IMAGE, ensureBusyboxTestImage } from '@berth/contract/testing'

/** The static-busybox test image shared by every plugin's engine tests (built once). */
export const TEST_IMAGE = BUSYBOX_TEST_IMAGE

export async function ensureTestImage(): Promise<void> {
  await ensureBusyboxTestImage()
}

/** A project name no other test uses. */
export function uniqueProject(prefix = 'composetest'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

/** A free 127.0.0.1 port between 21000 and 29999. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 21000 + Math.floor(Math.random() * 9000)
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
      server.once('error', () => resolve(false))
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)))
    })
    if (free) return port
  }
  throw new Error('no free port found between 21000 and 29999')
}

/**
 * The two-service stack the lifecycle tests run: an httpd publishing `${TEST_PORT}` on 127.0.0.1
 * that prints `TEST_SECRET` at start, a sleeper, and a named volume.
 */
export const TWO_SERVICE_COMPOSE = `version: "3.7"
services:
  web:
    image: ${TEST_IMAGE}
    command: ["/bin/busybox", "sh", "-c", "echo token=$$TEST_SECRET; exec /bin/busybox httpd -f -p 8080 -h /www"]
    stop_signal: SIGKILL
    environment:
      TEST_SECRET: "\${TEST_SECRET}"
    ports:
      - "127.0.0.1:\${TEST_PORT}:8080"
    volumes:
      - data:/data
  sleeper:
    image: ${TEST_IMAGE}
    command: ["/bin/busybox", "sleep", "3600"]
    stop_signal: SIGKILL
volumes:
  data: {}
`

/** Every file under `dir` whose content contains `needle`. */
export function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = []
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry)
    const stat = statSync(path)
    if (stat.isDirectory()) hits.push(...filesContaining(path, needle))
    else if (readFileSync(path).includes(needle)) hits.push(path)
  }
  return hits
}

export interface CommandLineWatch {
  /** Command lines of every process seen that contained the needle. */
  hits: string[]
  /** Command lines seen that mention compose, so a test knows the watch saw the run. */
  composeSeen: string[]
  stop(): void
}

/** Polls every process's argv (/proc/<pid>/cmdline) for `needle` until stopped. */
export function watchCommandLines(needle: string): CommandLineWatch {
  const watch: CommandLineWatch = { hits: [], composeSeen: [], stop: () => clearInterval(timer) }
  const scan = () => {
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue
      let argv: string
      try {
        argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ')
      } catch {
        continue
      }
      if (argv.includes(needle)) watch.hits.push(argv)
      if (argv.includes('docker-compose') && !watch.composeSeen.includes(argv)) watch.composeSeen.push(argv)
    }
  }
  const timer = setInterval(scan, 20)
  scan()
  return watch
}
