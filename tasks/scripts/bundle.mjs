// Bundles the CLI and every built-in plugin into dist/bundle/berth.mjs (+ lazily loaded chunks), so the installed bin starts by
// reading one file instead of resolving and compiling a few hundred modules. Libraries a command
// loads only when it needs them (zx, undici, pg, yaml, tsx) stay external and load on first use.
import { build } from 'esbuild'

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
