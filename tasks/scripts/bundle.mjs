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
/**
 * Node's own modules a command may never use load when they are first used, not when the module
 * importing them is evaluated (issue 16: `node:crypto` and `node:child_process` cost ~2.5 ms each
 * to load, `net` and `tty` ~3 ms together, and `sandbox list` uses none of crypto,
 * child_process, os or readline). Each import of one becomes `require("berth-lazy:node:m")`,
 * replaced after the build by a proxy that requires the module on its first use (the code reads
 * `m.name` where it uses an imported `name`; a namespace import copies the module's names, which
 * loads it then).
 */
const LAZY_BUILTINS = new Set([
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
])
const lazyBuiltins = {
  name: 'berth-lazy-builtins',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      const id = args.path.replace(/^node:/, '')
      return LAZY_BUILTINS.has(id) ? { path: `berth-lazy:node:${id}`, external: true } : undefined
    })
  },
}
const LAZY_HELPER = [
  'function __berthLazyBuiltin(id){let m;const load=()=>m??=require(id);return new Proxy({},{',
  'get:(_,k)=>load()[k],has:(_,k)=>k in load(),ownKeys:()=>Reflect.ownKeys(load()),',
  'getOwnPropertyDescriptor:(_,k)=>{const d=Reflect.getOwnPropertyDescriptor(load(),k);return d&&{...d,configurable:true}},',
  'getPrototypeOf:()=>Reflect.getPrototypeOf(load())})}',
].join('')

/**
 * zod, in its own bundle (dist/bundle/zod.cjs, code-cached apart, bin/code-cache.cjs), loaded the
 * first time berth builds or uses a schema: a read-only command whose config sections and registry
 * come from berth's caches builds none, and evaluating zod's modules was ~3 ms of every command
 * (issue 16). The runner sees `import * as z from 'zod'` as a module whose names are known (listed
 * here at build time) and whose values load on first read: esbuild's namespace copy reads the
 * names only, each value is a getter.
 */
const zodNames = Object.keys(await import('zod')).filter((name) => name !== 'default')
const lazyZod = {
  name: 'berth-lazy-zod',
  setup(b) {
    b.onResolve({ filter: /^zod$/ }, () => ({ path: 'berth-lazy:zod', external: true }))
  },
}
const LAZY_CHUNK_HELPER = [
  `var __berthZodNames=${JSON.stringify(zodNames)};var __berthChunks=new Map;`,
  'function __berthLazyChunk(file,names){if(__berthChunks.has(file))return __berthChunks.get(file);',
  'let m;const load=()=>m??=globalThis.__berthLoadChunk(file);const own=new Set(names);',
  // (esbuild's namespace copy asks for __esModule first: zod's own namespace has none)
  "const chunk=new Proxy({},{get:(_,k)=>k==='__esModule'?void 0:load()[k],has:(_,k)=>own.has(k),ownKeys:()=>names,",
  'getOwnPropertyDescriptor:(_,k)=>own.has(k)?{get:()=>load()[k],enumerable:true,configurable:true}:void 0,',
  'getPrototypeOf:()=>Object.prototype});__berthChunks.set(file,chunk);return chunk}',
].join('')

await build({
  ...common,
  // Already the function Node's loader would wrap it in (bin/code-cache.cjs compiles it as it is:
  // no copy of a megabyte-long string per run), and without the layout whitespace (less to read).
  banner: {
    js: `(function (exports, require, module, __filename, __dirname) {${common.banner.js}${LAZY_HELPER};${LAZY_CHUNK_HELPER};`,
  },
  footer: { js: '\n})' },
  // Minified: less to read and a smaller code cache to deserialise on every run (issue 16).
  // BERTH_BUNDLE_READABLE=1 keeps names and layout, for profiling.
  minify: !process.env.BERTH_BUNDLE_READABLE,
  external: common.external.filter((name) => name !== 'yaml'),
  entryPoints: { runner: 'dist/runner-entry.js' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.cjs' },
  plugins: [trim, yamlInBundle, lazyBuiltins, lazyZod],
})
// The zod bundle: zod's classic API (what `import * as z from 'zod'` gives), wrapped for the
// code cache like the runner's.
await build({
  ...common,
  banner: { js: `(function (exports, require, module, __filename, __dirname) {${common.banner.js}` },
  footer: { js: '\n})' },
  minify: !process.env.BERTH_BUNDLE_READABLE,
  // Parsers interpreted, not compiled with `new Function` (see @berth/contract lazy-schema.ts).
  stdin: {
    contents: "import { config } from 'zod'\nconfig({ jitless: true })\nexport * from 'zod'\n",
    resolveDir: '.',
    loader: 'js',
  },
  outfile: 'dist/bundle/zod.cjs',
  plugins: [trim],
})
{
  const file = 'dist/bundle/runner.cjs'
  let count = 0
  let zods = 0
  const lazy = readFileSync(file, 'latin1')
    .replace(/require\("berth-lazy:(node:[a-z_/]+)"\)/g, (_, id) => {
      count++
      return `__berthLazyBuiltin(${JSON.stringify(id)})`
    })
    // esbuild's namespace copy (`__toESM(require(…))`) would read every name of zod once per
    // importing module: the stand-in is the namespace itself.
    .replace(/[\w$]+\(require\("berth-lazy:zod"\)(?:,\s*1)?\)/g, () => {
      zods++
      return '__berthLazyChunk("zod.cjs",__berthZodNames)'
    })
  if (zods === 0) throw new Error(`${file}: zod was not made lazy`)
  // Fails the build when esbuild's output no longer has the shape this relies on.
  if (count < 10 || lazy.includes('berth-lazy:')) throw new Error(`${file}: Node's own modules were not all made lazy`)
  writeFileSync(file, lazy, 'latin1')
}

// V8-cached code cannot call import() in Node 20 (bin/code-cache.cjs): make sure none is left.
for (const file of ['dist/bundle/cli.cjs', 'dist/bundle/runner.cjs', 'dist/bundle/zod.cjs']) {
  const output = readFileSync(file, 'latin1')
  // (code only: esbuild keeps some comments, which may mention import())
  const left = output
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\*)/.test(line))
    .join('\n')
    .match(/[^\w$.]import\s*\(/g)
  if (left) throw new Error(`${file} still calls import() ${left.length} time(s): route it through importExternal`)
}
