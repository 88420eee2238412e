/**
 * `zeroGrad`: PyTorch's `optimizer.zero_grad()` / `module.zero_grad()`.
 *
 * @module
 */

import { type Parameters, parameterTensors } from "./params.ts";

/**
 * Zeroes the accumulated gradients of `params` (a module, its parameters, or tensors), keeping
 * the same `.grad` tensors, which read as zeros and which optimizers take as zero gradients. The
 * zeros cost no dispatch: the next backward writes each gradient over them (taking the buffer
 * it computed, or copying it in) instead of adding to zeros; a gradient used before then (read,
 * or stepped by AdamW when its parameter got none) is zero-filled at that first use.
 * With `setToNone` it releases them instead and sets `.grad` to null, as PyTorch's
 * `zero_grad(set_to_none=True)`: optimizers then skip parameters that got no gradient.
 *
 * @throws {TypeError} naming what was passed when it is not a module, parameters or tensors
 * @example
 * ```ts ignore
 * backward(loss);
 * optimizer.step();
 * zeroGrad(model);
 * ```
 */
export function zeroGrad(params: Parameters, options: { setToNone?: boolean } = {}): void {
  for (const p of parameterTensors(params, "zero gradients")) {
    if (!p.grad) continue;
    if (options.setToNone) {
      p.grad.dispose();
      p.grad = null;
    } else {
      p.grad.fillLater(0);
    }
  }
}
