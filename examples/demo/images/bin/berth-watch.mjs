// berth-watch: run a Node program and restart it whenever a file under its folder changes.
//   node /usr/local/bin/berth-watch.mjs /app/server.mjs [args...]
//
// Why not plain `node --watch`: on Linux, Node 20's watch mode (and --watch-path) watches each
// file's inode, so once a file is *replaced* rather than rewritten in place (sed -i, most editors'
// safe-save, git checkout / switching branches) it never sees another change to that file. This
// watches the folders instead (fs.watch on a folder survives replaced files) and also polls
// mtimes, which covers bind mounts that deliver no inotify events at all (some Docker Desktop
// file-sharing modes).
//   WATCH_DIR       folder to watch (default: the program's folder)
//   WATCH_POLL_MS   polling interval (default 500)
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

if (!process.argv[2]) {
  console.error('usage: node berth-watch.mjs <program> [args...]')
  process.exit(2)
}
const entry = path.resolve(process.argv[2])
const args = process.argv.slice(3)
const root = path.resolve(process.env.WATCH_DIR || path.dirname(entry))
const POLL_MS = Number(process.env.WATCH_POLL_MS || 500)
const SKIP = new Set(['node_modules', '.git'])
const log = (msg) => console.log(`[berth-watch] ${msg}`)

// "path mtime size" for every file under root, plus the folders seen.
function scan() {
  const files = []
  const dirs = []
  const walk = (dir) => {
    dirs.push(dir)
    let entries
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true })
    } catch {
      return
    }
    for (const e of entries) {
      if (SKIP.has(e.name)) continue
      const p = path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else {
        try {
          const st = fs.statSync(p)
          files.push(`${p} ${st.mtimeMs} ${st.size}`)
        } catch {
          // vanished between readdir and stat: the next scan sees the new state
        }
      }
    }
  }
  walk(root)
  return { signature: files.sort().join('\n'), dirs }
}

const watchers = new Map() // folder -> FSWatcher
function watchDirs(dirs) {
  const wanted = new Set(dirs)
  for (const [dir, w] of watchers) {
    if (!wanted.has(dir)) {
      w.close()
      watchers.delete(dir)
    }
  }
  for (const dir of wanted) {
    if (watchers.has(dir)) continue
    try {
      const w = fs.watch(dir, { persistent: false }, () => schedule())
      w.on('error', () => {
        w.close()
        watchers.delete(dir)
      })
      watchers.set(dir, w)
    } catch {
      // polling still covers this folder
    }
  }
}

let child = null
let stopping = false
let pendingRestart = false

function start() {
  const proc = spawn(process.execPath, [entry, ...args], { stdio: 'inherit' })
  child = proc
  proc.on('exit', (code, signal) => {
    if (child === proc) child = null
    if (stopping) process.exit(code ?? 0)
    if (pendingRestart) {
      pendingRestart = false
      start()
    } else {
      log(`${path.relative(root, entry)} exited (${signal || code}); waiting for file changes before restarting`)
    }
  })
}

function restart() {
  if (!child) return start()
  if (pendingRestart) return
  pendingRestart = true
  const proc = child
  proc.kill('SIGTERM')
  setTimeout(() => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL'), 3000).unref()
}

let state = scan()
watchDirs(state.dirs)

function check() {
  const next = scan()
  watchDirs(next.dirs)
  if (next.signature === state.signature) return
  state = next
  log(`change under ${root}: restarting ${path.relative(root, entry)}`)
  restart()
}

let timer = null
function schedule() {
  // Coalesce the burst of events one save produces.
  if (timer) return
  timer = setTimeout(() => {
    timer = null
    check()
  }, 60)
}
setInterval(check, POLL_MS)

for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    stopping = true
    if (!child) process.exit(0)
    child.kill(sig)
    setTimeout(() => process.exit(1), 4000).unref()
  })
}

start()
