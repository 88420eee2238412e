/**
 * `zeroGrad`: PyTorch's `optimizer.zero_grad()` / `module.zero_grad()`.
 *
 * @module
 */

import { fillTensor } from "../autograd/accumulate.ts";
import type { Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { groupBindings, groupSize, smallGroups } from "../ops/foreach.ts";
import { fillMulti } from "../../kernels/multi_tensor.ts";
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
  const grads: { tensor: Tensor }[] = [];
  for (const p of parameterTensors(params, "zero gradients")) {
    if (!p.grad) continue;
    if (options.setToNone) {
      p.grad.dispose();
      p.grad = null;
    } else {
      grads.push({ tensor: p.grad });
    }
  }
  if (grads.length === 0) return;
  // Small gradients several to a dispatch, the others one each.
  const { groups, large } = smallGroups(grads, groupSize(grads[0].tensor.gpu, 1));
  for (const group of groups) {
    const { bound, offsets } = groupBindings(group);
    dispatch(fillMulti(group.length), bound, { ...offsets, value: 0 });
  }
  for (const { tensor } of large) fillTensor(tensor, 0);
}
