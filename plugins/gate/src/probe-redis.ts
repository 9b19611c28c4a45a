import { connect } from 'node:net'
import { withAttemptLimit } from './attempt.js'
import type { RedisCheck } from './checks.js'
import { ProbeError } from './probe-error.js'
import type { AttemptOptions } from './probes.js'

/**
 * Resolves when Redis answers `PING` with `PONG`, after `AUTH [user] password` when the check has
 * a password. Speaks RESP directly (two commands need no client library); the password travels
 * only on the socket.
 */
export function probeRedis(check: RedisCheck, options: AttemptOptions): Promise<void> {
  const host = check.host.replace(/^\[(.*)\]$/, '$1')
  return withAttemptLimit(options.signal, options.limitMs, `no PONG within ${options.limitMs} ms`, (signal) => {
    return new Promise<void>((resolve, reject) => {
      const commands: string[][] = []
      if (check.password !== undefined) {
        commands.push(check.user === undefined ? ['AUTH', check.password] : ['AUTH', check.user, check.password])
      }
      commands.push(['PING'])
      const socket = connect({ host, port: check.port })
      let pending = ''
      let answered = 0
      const finish = (error?: unknown): void => {
        signal.removeEventListener('abort', onAbort)
        socket.destroy()
        if (error === undefined) resolve()
        else reject(error)
      }
      const onAbort = (): void => finish(signal.reason)
      signal.addEventListener('abort', onAbort, { once: true })
      socket.setEncoding('utf8')
      socket.once('connect', () => socket.write(commands.map(encodeCommand).join('')))
      socket.on('data', (chunk: string) => {
        pending += chunk
        for (let end = pending.indexOf('\r\n'); end >= 0; end = pending.indexOf('\r\n')) {
          const reply = pending.slice(0, end)
          pending = pending.slice(end + 2)
          const command = commands[answered++]?.[0]
          const problem = replyProblem(command, reply, check)
          if (problem) return finish(problem)
          if (command === 'PING') return finish()
        }
      })
      socket.once('error', (error) => finish(error))
      socket.once('close', () => finish(new Error('connection closed before PONG')))
    })
  })
}

/** `*2\r\n$4\r\nAUTH\r\n$6\r\nsecret\r\n`: a command as RESP bulk strings. */
function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`
}

/** Why a reply is not the expected `+OK` (AUTH) / `+PONG` (PING), or undefined when it is. */
function replyProblem(command: string | undefined, reply: string, check: RedisCheck): Error | undefined {
  if (command === 'AUTH' && reply === '+OK') return undefined
  if (command === 'PING' && reply === '+PONG') return undefined
  const text = reply.replace(/^[-+]/, '')
  if (/^(WRONGPASS|ERR invalid (username-)?password)/i.test(text)) {
    return new ProbeError(`authentication failed: ${text}`, {
      permanent: true,
      hint: "the check's redis.password is not the server's (requirepass / ACL): check both come from the same secret",
    })
  }
  if (/^ERR AUTH .*without any password configured/i.test(text)) {
    return new ProbeError(`the check sends a password, but the server has none configured (${text})`, {
      permanent: true,
      hint: 'give the server its password (requirepass) or drop redis.password from the check',
    })
  }
  if (/^NOAUTH/i.test(text)) {
    return new ProbeError(`the server requires a password (${text})`, {
      permanent: check.password === undefined,
      hint: 'add redis.password to the check, e.g. "${REDIS_PASSWORD}" (a secret of the instance)',
    })
  }
  // LOADING (the dataset is being read), a busy script, a replica syncing: worth another try.
  return new Error(`${command ?? 'reply'}: ${text || 'empty reply'}`)
}
