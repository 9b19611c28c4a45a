// Bundles the CLI and every built-in plugin into dist/bundle/{cli,runner}.cjs, so the installed bin starts by
// reading one file instead of resolving and compiling a few hundred modules. Libraries a command
// loads only when it needs them (zx, undici, pg, yaml, tsx) stay external and load on first use.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'

/**
 * What a command compiles at start-up is most of its cost (issue 16: Node 20 has no compile
 * cache), so the bundle leaves out what berth never runs:
 * - zod's 60-odd translations of its messages (`z.locales`, ~360 kB, half of zod): berth speaks
 *   English only (zod itself loads `en`);
 * - the modules of berth's own packages a command does not import: they declare no side effects,
 *   so `berth --help` stops at the error classes instead of pulling zod through @berth/contract.
 */
const trim = {
  name: 'berth-trim',
  setup(b) {
    b.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
    }))
    // berth's packages (imported by name, or one module of theirs from another) have no side effects.
    b.onResolve({ filter: /.*/ }, async (args) => {
      if (args.pluginData?.trimmed) return undefined
      const own =
        /^@berth\//.test(args.path) ||
        (args.path.startsWith('.') && /[\\/](?:plugins|lib|libs)[\\/][^\\/]+[\\/]dist[\\/]/.test(args.importer))
      if (!own) return undefined
      const resolved = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { trimmed: true },
      })
      if (resolved.errors.length > 0 || resolved.external) return undefined
      return { path: resolved.path, sideEffects: false }
    })
  },
}

// A fresh folder: old bundles and their code caches (bin/code-cache.cjs) go.
rmSync('dist/bundle', { recursive: true, force: true })

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  charset: 'ascii',
  // No import() in the bundles (see bin/code-cache.cjs): the lazy modules' become plain calls,
  // and the fallbacks importExternal never calls in the bundle become require()s.
  supported: { 'dynamic-import': false },
  external: [
    'zx',
    'zx/*',
    'undici',
    'pg',
    'yaml',
    'tsx',
    'tsx/*',
    'esbuild',
    'typescript',
    'cosmiconfig',
    '@modelcontextprotocol/sdk',
    '@modelcontextprotocol/sdk/*',
  ],
  // `import.meta.url` (package.json lookups, createRequire, tsx) is the bundle's own URL.
  define: { 'import.meta.url': '__berthBundleUrl' },
  // ES module code runs strict: the directive goes first (esbuild's own comes after the banner).
  banner: { js: "'use strict';var __berthBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  legalComments: 'none',
  logLevel: 'warning',
}

// Two CommonJS files, run by bin/berth.js: cli.cjs (help, version, finding the command: small,
// loaded as it is) and runner.cjs (the runner and every built-in plugin, through V8's code cache,
// bin/code-cache.cjs: Node 20 caches no compiled ES modules). What the runner imports dynamically
// (each plugin) stays lazy: esbuild evaluates such a module only when the import() runs.
const runnerOnly = {
  name: 'berth-runner-apart',
  setup(b) {
    // cli.js reaches the runner only through the bin's loader (main's loadRunner).
    b.onResolve({ filter: /^\.\/execute\.js$/ }, (args) =>
      args.importer.endsWith(`${'dist'}/cli.js`) ? { path: './runner.cjs', external: true } : undefined,
    )
  },
}
await build({
  ...common,
  entryPoints: { cli: 'dist/cli.js' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.cjs' },
  plugins: [trim, runnerOnly],
})
// yaml (compose files) goes into the runner's bundle, so it is code-cached too, and stays lazy:
// compose's yaml-lazy.js requires it on first use (a plain require esbuild can see).
const yamlInBundle = {
  name: 'berth-yaml-in-bundle',
  setup(b) {
    b.onLoad({ filter: /[\\/]plugins[\\/]compose[\\/]dist[\\/]yaml-lazy\.js$/ }, () => ({
      contents: 'let loaded\nexport function yaml() {\n  loaded ??= require("yaml")\n  return loaded\n}\n',
      loader: 'js',
    }))
  },
}
await build({
  ...common,
  // Already the function Node's loader would wrap it in (bin/code-cache.cjs compiles it as it is:
  // no copy of a megabyte-long string per run), and without the layout whitespace (less to read).
  banner: { js: `(function (exports, require, module, __filename, __dirname) {${common.banner.js}` },
  footer: { js: '\n})' },
  minifyWhitespace: true,
  external: common.external.filter((name) => name !== 'yaml'),
  entryPoints: { runner: 'dist/execute.js' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.cjs' },
  plugins: [trim, yamlInBundle],
})

/**
 * Node's own modules a command may never use load when they are first used, not when the module
 * importing them is evaluated (issue 16: `node:crypto` and `node:child_process` cost ~2.5 ms each
 * to load, `net` and `tty` ~3 ms together, and `sandbox list` used none of crypto, child_process,
 * os or readline). esbuild keeps an ES module's `import { x } from 'node:m'` as
 * `import_node_m = require("node:m")` and reads `import_node_m.x` where the code uses `x`, so a
 * proxy that requires the module on its first property read is the same module to the code.
 */
const LAZY_BUILTINS = [
  'child_process',
  'crypto',
  'dgram',
  'dns',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'readline',
  'stream',
  'stream/promises',
  'timers/promises',
  'tty',
  'worker_threads',
  'zlib',
]
const LAZY_REQUIRE = new RegExp(
  `(\\bimport_[\\w$]+\\s*=\\s*)require\\("node:(${LAZY_BUILTINS.map((m) => m.replace('/', '\\/')).join('|')})"\\)`,
  'g',
)
const LAZY_HELPER =
  'function __berthLazyBuiltin(id){let m;const load=()=>m??=require(id);return new Proxy({},{get:(_,k)=>load()[k],has:(_,k)=>k in load()})}'
{
  const file = 'dist/bundle/runner.cjs'
  const source = readFileSync(file, 'latin1')
  let count = 0
  const lazy = source.replace(LAZY_REQUIRE, (_, assign, id) => {
    count++
    return `${assign}__berthLazyBuiltin("node:${id}")`
  })
  // Fails the build when esbuild's output no longer has the shape this relies on.
  if (count < 10)
    throw new Error(`${file}: only ${count} of Node's own modules made lazy; has esbuild's output changed?`)
  const at = lazy.indexOf('var __berthBundleUrl')
  writeFileSync(file, `${lazy.slice(0, at)}${LAZY_HELPER};${lazy.slice(at)}`, 'latin1')
}

// V8-cached code cannot call import() in Node 20 (bin/code-cache.cjs): make sure none is left.
for (const file of ['dist/bundle/cli.cjs', 'dist/bundle/runner.cjs']) {
  const output = readFileSync(file, 'latin1')
  // (code only: esbuild keeps some comments, which may mention import())
  const left = output
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\*)/.test(line))
    .join('\n')
    .match(/[^\w$.]import\s*\(/g)
  if (left) throw new Error(`${file} still calls import() ${left.length} time(s): route it through importExternal`)
}
