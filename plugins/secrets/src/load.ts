import {
  EnvironmentError,
  type InstanceKind,
  type Logger,
  OperationError,
  type Redactor,
  UsageError,
} from '@berth/contract'
import { readSecretsFile, resolveSecretsFile } from './env-file.js'
import { findItemField, opItemGet } from './op-item.js'
import { opSignedIn } from './op-signin.js'
import type { SecretsReport, SecretsSource } from './report.js'
import type { SecretsConfig } from './schema.js'

export interface LoadSecretsOptions {
  /** `--no-secrets`: skip the provider and use the insecure defaults (refused for local-prod). */
  noSecrets?: boolean
  /** Kind of the instance; `local-prod` refuses insecure defaults. */
  kind?: InstanceKind | undefined
  /** Environment `op` runs with; its PATH is where `op` is looked for. Default `process.env`. */
  env?: NodeJS.ProcessEnv
  /** Every value loaded is registered here so that output can redact it. */
  redactor?: Redactor
  log?: Logger
  signal?: AbortSignal
  /** env-file: relative paths resolve from here (the config file's folder). Default cwd. */
  baseDir?: string
  /** env-file: the file must be outside these folders (repository, worktree, instance). */
  forbiddenRoots?: string[]
}

/** The outcome of {@link loadSecrets}: `values` for the compose process, the rest for reports. */
export interface LoadedSecrets extends SecretsReport {
  /** Variable -> value. Pass to child processes' environment only; never print or write it. */
  values: Record<string, string>
}

const silent: Logger = { info() {}, warn() {}, debug() {} }

/**
 * Loads the secrets of the `secrets` section into environment variables.
 *
 * - `none`: the defaults, quietly (nothing was asked for).
 * - `--no-secrets`, `op` missing or signed out, env file missing: the defaults with ONE warning
 *   naming why and which variables got insecure values; local-prod refuses instead.
 * - otherwise each mapped field (1Password label, then id; env-file key) sets its variable; an
 *   absent field falls back to its default with a warning, or fails naming field and item.
 *
 * Every value returned is registered with `redactor`. Nothing is written anywhere.
 */
export async function loadSecrets(config: SecretsConfig, options: LoadSecretsOptions = {}): Promise<LoadedSecrets> {
  const log = options.log ?? silent
  const localProd = options.kind === 'local-prod'
  const finish = (loaded: LoadedSecrets): LoadedSecrets => {
    for (const value of Object.values(loaded.values)) options.redactor?.add(value)
    return loaded
  }

  if (config.provider === 'none') {
    return finish(withDefaults(config, 'none', {}))
  }
  if (options.noSecrets) {
    if (localProd) {
      throw new UsageError('--no-secrets is refused for local-prod: it would run with insecure default secrets', {
        code: 'E_NO_SECRETS_LOCAL_PROD',
        hint: 'drop --no-secrets; local-prod reads its secrets from the configured provider',
      })
    }
    return finish(fallBack(config, log, '--no-secrets was given', 'drop --no-secrets'))
  }
  if (config.provider === 'env-file') return finish(await fromEnvFile(config, options, log, localProd))
  return finish(await fromOnePassword(config, options, log, localProd))
}

async function fromOnePassword(
  config: SecretsConfig,
  options: LoadSecretsOptions,
  log: Logger,
  localProd: boolean,
): Promise<LoadedSecrets> {
  const item = (localProd ? (config.localProdItem ?? config.item) : config.item) ?? ''
  const call = {
    timeoutMs: config.timeout * 1000,
    ...(options.env ? { env: options.env } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  }
  const status = await opSignedIn({ ...call, account: config.account })
  if (!status.signedIn) {
    const missing = !status.installed
    if (localProd) {
      throw new EnvironmentError(
        missing
          ? "local-prod needs its secrets from 1Password, but the 1Password CLI 'op' is not on PATH"
          : `local-prod needs its secrets from 1Password, but op is not signed in (${status.reason})`,
        {
          code: missing ? 'E_NO_OP' : 'E_OP_SIGNED_OUT',
          hint: missing
            ? 'install the 1Password CLI (https://developer.1password.com/docs/cli/get-started/) and sign in'
            : "run 'op signin' (or turn on 1Password app > Settings > Developer > Integrate with 1Password CLI)",
        },
      )
    }
    return fallBack(
      config,
      log,
      missing ? "the 1Password CLI 'op' is not on PATH" : `op is not signed in (${status.reason})`,
      missing
        ? "install the 1Password CLI and run 'op signin'"
        : "run 'op signin' (or turn on the 1Password app's CLI integration)",
    )
  }
  log.debug(`secrets: op signed in (checked with op ${status.via})`)
  const opItem = await opItemGet(item, { ...call, vault: config.vault, account: config.account })
  const supplied = mapFields(
    config,
    (key) => findItemField(opItem, key)?.value,
    `1Password item ${JSON.stringify(item)}`,
    log,
    localProd,
  )
  const loaded = withDefaults(config, 'op', supplied)
  log.info(`secrets: ${describeNames(Object.keys(supplied))} from 1Password item ${JSON.stringify(item)}`)
  return { ...loaded, item }
}

async function fromEnvFile(
  config: SecretsConfig,
  options: LoadSecretsOptions,
  log: Logger,
  localProd: boolean,
): Promise<LoadedSecrets> {
  const file = resolveSecretsFile(config.file ?? '', {
    baseDir: options.baseDir ?? process.cwd(),
    forbiddenRoots: options.forbiddenRoots ?? [],
    home: options.env?.HOME,
  })
  const entries = await readSecretsFile(file)
  if (entries === null) {
    if (localProd) {
      throw new EnvironmentError(`local-prod needs its secrets, but the secrets file ${file} does not exist`, {
        code: 'E_SECRETS_FILE_MISSING',
        hint: 'create it with one KEY=value per line (chmod 600)',
      })
    }
    return { ...fallBack(config, log, `the secrets file ${file} does not exist`, 'create it'), file }
  }
  const fields = Object.keys(config.fields).length > 0 ? config.fields : identity(Object.keys(entries))
  const supplied = mapFields({ ...config, fields }, (key) => entries[key], `secrets file ${file}`, log, localProd)
  log.info(`secrets: ${describeNames(Object.keys(supplied))} from ${file}`)
  return { ...withDefaults(config, 'env-file', supplied), file }
}

/**
 * Looks up each mapped field. Absent fields take their default (one warning for all of them) or,
 * without a default — or on local-prod, which takes no insecure defaults — fail naming the fields.
 */
function mapFields(
  config: Pick<SecretsConfig, 'fields' | 'defaults'>,
  lookup: (key: string) => string | undefined,
  source: string,
  log: Logger,
  localProd: boolean,
): Record<string, string> {
  const supplied: Record<string, string> = {}
  const absent: [field: string, variable: string][] = []
  for (const [field, variable] of Object.entries(config.fields)) {
    const value = lookup(field)
    if (value === undefined) absent.push([field, variable])
    else supplied[variable] = value
  }
  if (absent.length === 0) return supplied
  const fatal = absent.filter(([, variable]) => localProd || config.defaults[variable] === undefined)
  if (fatal.length > 0) {
    const names = fatal.map(([field, variable]) => `${JSON.stringify(field)} (for ${variable})`).join(', ')
    throw new OperationError(`${source} has no field ${names}`, {
      code: 'E_SECRET_FIELD_MISSING',
      hint: localProd
        ? 'add the field to the item: local-prod takes no insecure defaults'
        : `add the field to the item, or give ${fatal.map(([, v]) => v).join(', ')} a value under secrets.defaults`,
      details: { fields: fatal.map(([field]) => field) },
    })
  }
  const list = absent.map(([field, variable]) => `${variable} (field ${JSON.stringify(field)})`).join(', ')
  log.warn(`secrets: ${source} lacks some fields; using insecure defaults for ${list}`)
  return supplied
}

function fallBack(config: SecretsConfig, log: Logger, reason: string, fix: string): LoadedSecrets {
  const loaded = { ...withDefaults(config, 'defaults', {}), reason }
  const used =
    loaded.defaulted.length > 0 ? `using insecure defaults for ${loaded.defaulted.join(', ')}` : 'no secrets set'
  const unset =
    loaded.unset.length > 0
      ? `; ${loaded.unset.join(', ')} ha${loaded.unset.length > 1 ? 've' : 's'} no default and stay${loaded.unset.length > 1 ? '' : 's'} unset`
      : ''
  log.warn(`secrets: ${reason}: ${used}${unset} — ${fix} for real secrets`)
  return loaded
}

function withDefaults(config: SecretsConfig, source: SecretsSource, supplied: Record<string, string>): LoadedSecrets {
  const values: Record<string, string> = { ...config.defaults, ...supplied }
  const defaulted = Object.keys(config.defaults).filter((name) => !(name in supplied))
  const unset = Object.values(config.fields).filter((name) => !(name in values))
  return {
    provider: config.provider,
    source,
    values,
    variables: Object.keys(values).sort(),
    defaulted: defaulted.sort(),
    unset: [...new Set(unset)].sort(),
  }
}

function identity(keys: string[]): Record<string, string> {
  return Object.fromEntries(keys.map((key) => [key, key]))
}

function describeNames(names: string[]): string {
  return names.length === 0 ? 'no variables loaded' : `loaded ${[...names].sort().join(', ')}`
}
