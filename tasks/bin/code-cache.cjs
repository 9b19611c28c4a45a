'use strict'
/**
 * Runs berth's one-file bundle through V8's code cache (issue 16). Node 20 has no compile cache
 * (`module.enableCompileCache` is Node 22+), so every run used to parse and compile the ~1 MB it
 * loads (about 25 ms of a 150 ms `berth url`). Here the bundle is compiled with `vm.Script` and
 * the code V8 produced is kept, so a later run deserialises it instead.
 *
 * Safe by construction:
 * - A cache is named after the bundle's size, mtime and inode, the Node version and the
 *   architecture: a rebuilt or replaced bundle never meets an old cache (V8 itself checks only
 *   the source's length, its own version and flags, and the data's checksum; it rejects what fails).
 * - A cache V8 rejects, or that cannot be read, is ignored: the bundle compiles as without one.
 * - It is written once (when missing or rejected), to a temp file renamed into place, so concurrent
 *   runs never read half a file; a write that fails is ignored.
 * - It lives next to the bundle (whoever can write there can change the code itself), else in the
 *   user's own cache folder ($XDG_CACHE_HOME or ~/.cache/berth) — never a shared temp folder.
 * - BERTH_CODE_CACHE=0 turns it off.
 * One cache per command (its first word, two for the groups below), written after that command's
 * first run, so it holds the code that command compiled.
 */
const { closeSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync } =
  require('node:fs')
const { dirname, join } = require('node:path')
const vm = require('node:vm')

/** Commands with subcommands: their cache is per subcommand (`sandbox-list`). */
const GROUPS = new Set(['sandbox', 'local-prod', 'config', 'test', 'shared', 'compose'])
const WORD = /^[a-z][a-z0-9-]{0,30}$/
const WRAPPER = '(function (exports, require, module, __filename, __dirname) {'

/** The cache's name for a command line: `url`, `sandbox-list`, `impl` (never a feature name). */
function commandKey(argv) {
  const [first, second] = argv
  if (!first || !WORD.test(first)) return 'other'
  return GROUPS.has(first) && second && WORD.test(second) ? `${first}-${second}` : first
}

function cacheDirs(bundle) {
  const dirs = [join(dirname(bundle), '.v8-cache')]
  const home = process.env.HOME || require('node:os').homedir()
  const base = process.env.XDG_CACHE_HOME || join(home, '.cache')
  dirs.push(join(base, 'berth', 'v8-cache'))
  return dirs
}

function readCache(dirs, name) {
  for (const dir of dirs) {
    try {
      return readFileSync(join(dir, name))
    } catch {
      // not there
    }
  }
  return undefined
}

function writeCache(dirs, name, stamp, data) {
  for (const dir of dirs) {
    try {
      mkdirSync(dir, { recursive: true })
      const temp = join(dir, `.${name}.${process.pid}.tmp`)
      const fd = openSync(temp, 'w', 0o644)
      try {
        writeSync(fd, data)
      } finally {
        closeSync(fd)
      }
      renameSync(temp, join(dir, name))
      // Caches of an older build or Node are never read again.
      for (const entry of readdirSync(dir)) {
        if (entry.endsWith('.v8') && !entry.includes(stamp)) rmSync(join(dir, entry), { force: true })
      }
      return
    } catch {
      // not writable: try the next place
    }
  }
}

/**
 * Loads a CommonJS bundle (compiled with `vm.Script`, as Node's own loader would) and returns its
 * exports; `argv` names the cache. The bundle holds no `import()` (esbuild turns them into
 * `require`s): in Node 20, code V8 took from a cache can no longer call `import()`, so the bundle
 * imports external ES modules (undici, zx, the MCP SDK, a config's `.mjs` plugin) through
 * `globalThis.__berthImport`, the caller's own `import()` (see @berth/contract importExternal).
 */
function loadBundle(bundle, argv, importer, part) {
  globalThis.__berthImport = importer
  const source = readFileSync(bundle, 'latin1') // esbuild writes ASCII (charset: 'ascii')
  const enabled = process.env.BERTH_CODE_CACHE !== '0'
  let name
  let dirs
  let cachedData
  const stat = statSync(bundle)
  const stamp = `${stat.size}-${Math.floor(stat.mtimeMs)}-${stat.ino}-${process.version}-${process.arch}`
  if (part === undefined) {
    // The build's identity: caches of what this build worked out (its config sections) go by it.
    globalThis.__berthBuild = stamp
    // A bundle the runner loads when it first needs it (zod.cjs), cached per command as well.
    globalThis.__berthLoadChunk = (file) =>
      loadBundle(join(dirname(bundle), file), argv, importer, file.replace(/\.cjs$/, ''))
  }
  // A part's caches carry the runner's identity too, so that writing one never deletes the other.
  const build = part === undefined ? stamp : `${globalThis.__berthBuild}.${part}-${stamp}`
  if (enabled) {
    name = `${commandKey(argv)}.${build}.v8`
    dirs = cacheDirs(bundle)
    cachedData = readCache(dirs, name)
  }
  // The runner's bundle comes wrapped (scripts/bundle.mjs); anything else is wrapped here.
  const wrapped = source.startsWith(WRAPPER) ? source : `${WRAPPER}${source}\n})`
  const script = new vm.Script(wrapped, {
    filename: bundle,
    cachedData,
  })
  const module = { exports: {} }
  const localRequire = require('node:module').createRequire(bundle)
  script.runInThisContext()(module.exports, localRequire, module, bundle, dirname(bundle))
  if (enabled && (cachedData === undefined || script.cachedDataRejected)) {
    // After the command ran, so the cache holds what it compiled; not for a usage error (exit 2),
    // which may be a typo that names no command.
    process.once('exit', (code) => {
      if (code !== 2) writeCache(dirs, name, globalThis.__berthBuild ?? stamp, script.createCachedData())
    })
  }
  return module.exports
}

module.exports = { loadBundle, commandKey }
