// Bundles the CLI and every built-in plugin into dist/bundle/berth.mjs (+ lazily loaded chunks), so the installed bin starts by
// reading one file instead of resolving and compiling a few hundred modules. Libraries a command
// loads only when it needs them (zx, undici, pg, yaml, tsx) stay external and load on first use.
import { rmSync } from 'node:fs'
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

// Chunks are content-hashed: start from an empty folder so old ones do not pile up.
rmSync('dist/bundle', { recursive: true, force: true })

await build({
  entryPoints: { berth: 'dist/cli.js' },
  outdir: 'dist/bundle',
  outExtension: { '.js': '.mjs' },
  // `berth --help` and `--version` load only the entry chunk; commands load the runner's chunk.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  plugins: [trim],
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
    '@modelcontextprotocol/sdk',
    '@modelcontextprotocol/sdk/*',
  ],
  // CommonJS dependencies (cosmiconfig) call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);",
  },
  legalComments: 'none',
  logLevel: 'warning',
})
