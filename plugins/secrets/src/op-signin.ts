import { findOp, type OpCallOptions, opErrorText, runOp } from './op-cli.js'

export interface OpSignInOptions extends OpCallOptions {
  account?: string | undefined
}

export type OpSignInStatus =
  | { signedIn: true; via: 'whoami' | 'vault list'; opPath: string; email?: string; url?: string }
  | { signedIn: false; installed: boolean; opPath: string | null; reason: string }

/**
 * Is `op` installed and signed in? Asks `op whoami --format json` first. With the 1Password app's
 * CLI integration (the default on desktops) `whoami` says "account is not signed in" although
 * every other command works, so a failed `whoami` is confirmed with `op vault list --format json`
 * before berth falls back to insecure defaults. A `whoami` that times out (killed) counts as
 * signed out without a second probe.
 */
export async function opSignedIn(options: OpSignInOptions = {}): Promise<OpSignInStatus> {
  const opPath = findOp(options)
  if (opPath === null) return { signedIn: false, installed: false, opPath: null, reason: "'op' is not on PATH" }
  const account = options.account ? ['--account', options.account] : []
  const seconds = Math.round((options.timeoutMs ?? 15_000) / 100) / 10

  const whoami = await runOp(opPath, ['whoami', '--format', 'json', ...account], options)
  if (whoami.exitCode === 0) {
    const who = parseAccount(whoami.stdout)
    return { signedIn: true, via: 'whoami', opPath, ...who }
  }
  if (options.signal?.aborted) return { signedIn: false, installed: true, opPath, reason: 'aborted' }
  // A hung op (locked app, unanswered prompt) would hang again: one deadline is enough.
  if (whoami.timedOut)
    return { signedIn: false, installed: true, opPath, reason: `'op whoami' did not answer within ${seconds}s` }
  const reason = opErrorText(whoami)

  const vaults = await runOp(opPath, ['vault', 'list', '--format', 'json', ...account], options)
  if (vaults.exitCode === 0) return { signedIn: true, via: 'vault list', opPath }
  return { signedIn: false, installed: true, opPath, reason }
}

/** `op --version`, or null when op is missing or does not answer. */
export async function opVersion(options: OpCallOptions = {}): Promise<string | null> {
  const opPath = findOp(options)
  if (opPath === null) return null
  const result = await runOp(opPath, ['--version'], options)
  return result.exitCode === 0 ? result.stdout.trim() || null : null
}

function parseAccount(stdout: string): { email?: string; url?: string } {
  try {
    const json = JSON.parse(stdout) as { email?: unknown; url?: unknown }
    return {
      ...(typeof json.email === 'string' ? { email: json.email } : {}),
      ...(typeof json.url === 'string' ? { url: json.url } : {}),
    }
  } catch {
    return {}
  }
}
