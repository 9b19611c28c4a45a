/**
 * `import()` of a package outside berth's bundle (undici, pg, zx, tsx, the MCP SDK, a config's own
 * plugin file): `importExternal('pg', () => import('pg'))`.
 *
 * berth's bin runs its bundle through V8's code cache (tasks/bin/code-cache.cjs), and in Node 20
 * code that comes from that cache can no longer call `import()` ("A dynamic import callback was not
 * specified"). The bin therefore offers its own `import()` as `globalThis.__berthImport` (it
 * resolves from berth's package, where these packages are dependencies); anywhere else (tests,
 * the unbundled packages) `load` runs, resolving from the caller's own package as usual.
 */
export function importExternal<T>(specifier: string, load: () => Promise<T>): Promise<T> {
  const viaBin = (globalThis as { __berthImport?: (specifier: string) => Promise<unknown> }).__berthImport
  return viaBin ? (viaBin(specifier) as Promise<T>) : load()
}
