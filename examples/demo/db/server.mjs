// berth demo "database": a tiny line-based TCP store that behaves like postgres where it matters
// for sandboxes: the password it is first started with is stored in its volume, and a reused
// volume keeps the OLD password (so a slot reused with stale volumes fails auth, loudly).
//
// Protocol (one command per line, one reply per line):
//   PING            -> PONG
//   AUTH <password> -> OK | ERR auth
//   SET <key> <val> -> OK          (after AUTH; persisted in /data/kv.json)
//   GET <key>       -> VALUE <val> | NIL   (after AUTH)
//   QUIT            -> BYE, then the server closes the connection
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

const PORT = Number(process.env.DB_PORT || 5432)
const DATA_DIR = process.env.DB_DATA_DIR || '/data'
const PASSWORD_FILE = path.join(DATA_DIR, 'password')
const KV_FILE = path.join(DATA_DIR, 'kv.json')

function log(msg) {
  console.log(`[db ${process.env.INSTANCE_ID || '-'}] ${msg}`)
}

fs.mkdirSync(DATA_DIR, { recursive: true })
let password
if (fs.existsSync(PASSWORD_FILE)) {
  password = fs.readFileSync(PASSWORD_FILE, 'utf8')
  log('data directory already initialised: skipping initialisation, keeping the stored password')
} else {
  password = process.env.DB_PASSWORD || ''
  fs.writeFileSync(PASSWORD_FILE, password, { mode: 0o600 })
  log('initialised a new data directory with DB_PASSWORD')
}

let kv = {}
try {
  kv = JSON.parse(fs.readFileSync(KV_FILE, 'utf8'))
} catch {
  kv = {}
}

function handle(line, state) {
  const trimmed = line.replace(/\r$/, '')
  const space = trimmed.indexOf(' ')
  const cmd = (space === -1 ? trimmed : trimmed.slice(0, space)).toUpperCase()
  const rest = space === -1 ? '' : trimmed.slice(space + 1)
  switch (cmd) {
    case '':
      return null
    case 'PING':
      return 'PONG'
    case 'AUTH':
      state.authed = rest === password
      return state.authed ? 'OK' : 'ERR auth'
    case 'SET': {
      if (!state.authed) return 'ERR noauth'
      const sp = rest.indexOf(' ')
      if (sp <= 0) return 'ERR usage: SET <key> <value>'
      kv[rest.slice(0, sp)] = rest.slice(sp + 1)
      fs.writeFileSync(KV_FILE + '.tmp', JSON.stringify(kv))
      fs.renameSync(KV_FILE + '.tmp', KV_FILE)
      return 'OK'
    }
    case 'GET':
      if (!state.authed) return 'ERR noauth'
      return Object.hasOwn(kv, rest) ? `VALUE ${kv[rest]}` : 'NIL'
    case 'QUIT':
      state.quit = true
      return 'BYE'
    default:
      return 'ERR unknown command'
  }
}

const server = net.createServer((socket) => {
  const state = { authed: false, quit: false }
  let buf = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk) => {
    buf += chunk
    if (buf.length > 65536) {
      socket.end('ERR line too long\n')
      return
    }
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl)
      buf = buf.slice(nl + 1)
      const reply = handle(line, state)
      if (reply !== null) socket.write(reply + '\n')
      if (state.quit) {
        socket.end()
        return
      }
    }
  })
  socket.on('error', () => {})
  socket.setTimeout(30000, () => socket.destroy())
})

server.listen(PORT, '0.0.0.0', () => log(`listening on ${PORT}`))

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    log(`${sig}: shutting down`)
    server.close()
    process.exit(0)
  })
}
