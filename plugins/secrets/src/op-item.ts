import { EnvironmentError, lazySchema, OperationError } from '@berth/contract'
import * as z from 'zod'
import { findOp, type OpCallOptions, type OpCallResult, opErrorText, runOp } from './op-cli.js'

/** One field of `op item get --format json` (the parts berth reads; others pass through). */
export const opFieldSchema = lazySchema(() =>
  z.looseObject({
    id: z.string(),
    type: z.string(),
    label: z.string().optional(),
    purpose: z.string().optional(),
    value: z.string().optional(),
    section: z.looseObject({ id: z.string(), label: z.string().optional() }).optional(),
  }),
)

/** The item document `op item get ITEM --format json` prints (1Password CLI v2). */
export const opItemSchema = lazySchema(() =>
  z.looseObject({
    id: z.string(),
    title: z.string(),
    vault: z.looseObject({ id: z.string(), name: z.string().optional() }).optional(),
    category: z.string().optional(),
    fields: z.array(opFieldSchema).default([]),
  }),
)

export type OpField = z.output<typeof opFieldSchema>
export type OpItem = z.output<typeof opItemSchema>

export interface OpItemGetOptions extends OpCallOptions {
  vault?: string | undefined
  account?: string | undefined
}

/**
 * `op item get ITEM --format json [--vault V] [--account A]`, parsed. Since op 2.30 concealed
 * values may come back as a `[use 'op item get … --reveal' to reveal]` placeholder; the call is
 * then repeated once with `--reveal` (older versions reject that flag, so it is not sent first).
 * Errors name the item and quote op's stderr, never its stdout.
 */
export async function opItemGet(item: string, options: OpItemGetOptions = {}): Promise<OpItem> {
  const opPath = findOp(options)
  if (opPath === null) {
    throw new EnvironmentError("1Password CLI 'op' not found on PATH", {
      code: 'E_NO_OP',
      hint: 'install it: https://developer.1password.com/docs/cli/get-started/',
    })
  }
  const args = ['item', 'get', item, '--format', 'json']
  if (options.vault) args.push('--vault', options.vault)
  if (options.account) args.push('--account', options.account)
  const first = parseItem(item, await runOp(opPath, args, options), options)
  if (!first.fields.some(isConcealedPlaceholder)) return first
  const revealed = parseItem(item, await runOp(opPath, [...args, '--reveal'], options), options)
  if (revealed.fields.some(isConcealedPlaceholder)) {
    throw new OperationError(`op kept the concealed fields of item ${JSON.stringify(item)} hidden even with --reveal`, {
      code: 'E_OP_CONCEALED',
      hint: 'update the 1Password CLI (op update) and try again',
    })
  }
  return revealed
}

/**
 * The field `key` names: the first field whose label is `key`, else the field whose id is `key`.
 * Only fields carrying a value count (an empty notes field has none).
 */
export function findItemField(item: OpItem, key: string): OpField | undefined {
  const withValue = item.fields.filter((field) => typeof field.value === 'string')
  return withValue.find((field) => field.label === key) ?? withValue.find((field) => field.id === key)
}

function isConcealedPlaceholder(field: OpField): boolean {
  return typeof field.value === 'string' && /^\[use 'op item get .*--reveal' to reveal\]$/.test(field.value)
}

function parseItem(item: string, result: OpCallResult, options: OpItemGetOptions): OpItem {
  const where = [options.vault && `vault ${options.vault}`, options.account && `account ${options.account}`]
    .filter(Boolean)
    .join(', ')
  const named = `op item get ${JSON.stringify(item)}${where ? ` (${where})` : ''}`
  if (result.timedOut) {
    throw new OperationError(
      `${named} did not answer within ${Math.round((options.timeoutMs ?? 15_000) / 100) / 10}s and was killed`,
      {
        code: 'E_OP_TIMEOUT',
        hint: 'unlock the 1Password app or answer its prompt, or raise secrets.timeout',
      },
    )
  }
  if (result.exitCode !== 0) {
    throw new OperationError(`${named} failed: ${opErrorText(result)}`, {
      code: 'E_OP_ITEM',
      hint: `check the item name${options.vault ? '' : ' (and set secrets.vault if several vaults hold one by that name)'}; 'op item list' shows what the account holds`,
    })
  }
  let json: unknown
  try {
    json = JSON.parse(result.stdout)
  } catch {
    // The parser's message quotes the input, which holds values: say nothing about it.
    throw new OperationError(`${named} printed something that is not JSON`, {
      code: 'E_OP_OUTPUT',
      hint: 'check that op is the 1Password CLI v2 (op --version)',
    })
  }
  const parsed = opItemSchema.safeParse(json)
  if (!parsed.success) {
    const paths = [...new Set(parsed.error.issues.map((issue) => issue.path.join('.') || '(root)'))].join(', ')
    throw new OperationError(`${named} printed JSON of an unexpected shape (at ${paths})`, {
      code: 'E_OP_OUTPUT',
      hint: 'check that op is the 1Password CLI v2 (op --version)',
    })
  }
  return parsed.data
}
