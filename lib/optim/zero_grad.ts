/**
 * `zeroGrad`: PyTorch's `optimizer.zero_grad()` / `module.zero_grad()`.
 *
 * @module
 */

import { fillTensor } from "../autograd/accumulate.ts";
import { type Parameters, parameterTensors } from "./params.ts";

/**
 * Zeroes the accumulated gradients of `params` (a module, its parameters, or tensors), keeping
 * their buffers; with `setToNone` it releases them instead and sets `.grad` to null, as
 * PyTorch's `zero_grad(set_to_none=True)`: the next backward then copies each first gradient in
 * rather than zeroing and adding, and optimizers skip parameters that got none.
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
      fillTensor(p.grad, 0);
    }
  }
}
