import type { Step } from '@berth/contract'
import { detectCheckout } from '../checkout.js'

/** Sets `ctx.repo` from the cwd (the runner usually does this already). Read-only. */
export const detectStep: Step = {
  description: 'find the main checkout and the checkout containing the cwd',
  async run(ctx) {
    ctx.repo = await detectCheckout(ctx.cwd)
  },
}
