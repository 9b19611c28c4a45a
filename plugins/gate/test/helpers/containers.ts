/**
 * Real PostgreSQL and Redis servers for the protocol checks: the images the demo builds with no
 * registry (examples/demo/images/real/build.sh, run by scripts/bootstrap.sh), started with the
 * docker CLI on an ephemeral 127.0.0.1 port. Nothing is mocked; without the engine or the images
 * the tests fail saying so.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)
export const POSTGRES_IMAGE = process.env.BERTH_TEST_POSTGRES_IMAGE ?? 'berth-real-postgres:local'
export const REDIS_IMAGE = process.env.BERTH_TEST_REDIS_IMAGE ?? 'berth-real-redis:local'
const LABEL = 'berth.test=gate-protocols'

export interface RunningContainer {
  id: string
  port: number
  remove(): Promise<void>
}

/** `docker run -d` with the port published on 127.0.0.1; the environment travels by name (`-e NAME`). */
export async function startContainer(
  image: string,
  containerPort: number,
  env: Record<string, string>,
  command: string[] = [],
): Promise<RunningContainer> {
  await run('docker', ['image', 'inspect', image]).catch(() => {
    throw new Error(
      `image ${image} is missing: build it with examples/demo/images/build.sh (scripts/bootstrap.sh does)`,
    )
  })
  const name = `berth-gate-test-${randomBytes(4).toString('hex')}`
  const { stdout } = await run(
    'docker',
    [
      'run',
      '-d',
      '--rm',
      '--name',
      name,
      '--label',
      LABEL,
      '-p',
      `127.0.0.1::${containerPort}`,
      ...Object.keys(env).flatMap((key) => ['-e', key]),
      image,
      ...command,
    ],
    { env: { ...process.env, ...env } },
  )
  const id = stdout.trim()
  const published = await run('docker', ['port', id, `${containerPort}/tcp`])
  const port = Number(/:(\d+)\s*$/m.exec(published.stdout)?.[1])
  return {
    id,
    port,
    remove: async () => {
      await run('docker', ['rm', '-f', '-v', id]).catch(() => undefined)
    },
  }
}
