import { lstat } from 'node:fs/promises'
import { join } from 'node:path'

/** How a folder holds its checkout: `.git` folder = clone (or main checkout), `.git` file = linked worktree. */
export type CheckoutType = 'clone' | 'worktree' | 'none'

export async function checkoutType(path: string): Promise<CheckoutType> {
  try {
    const stat = await lstat(join(path, '.git'))
    if (stat.isDirectory()) return 'clone'
    if (stat.isFile()) return 'worktree'
    return 'none'
  } catch {
    return 'none'
  }
}

// The repository detector lives in @berth/git.
export { detectCheckout } from '@berth/git'
