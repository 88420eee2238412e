/**
 * `clipGradNorm`: PyTorch `clip_grad_norm_` on the GPU. The norm never leaves the GPU: the
 * clip kernels read it from its buffer, so clipping adds no sync point to a training step. Small
 * gradients are scaled at once, several to a dispatch; a large one records the scaling
 * (`Tensor.clipLater`), which `AdamW` applies as it reads the gradient, and any other use of the
 * gradient (a read, another op) dispatches first: either way the values are those of scaling in
 * place.
 *
 * @module
 */

import type { Tensor } from "../autograd/tensor.ts";
import { forwardScope } from "../autograd/scope.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { globalNorm } from "../ops/global_norm.ts";
import { groupBindings, groupSize, smallGroups } from "../ops/foreach.ts";
import { scaleClipMulti } from "../../kernels/multi_tensor.ts";
import { type Parameters, parameterTensors } from "./params.ts";

/**
 * Scales the gradient of every parameter in `params` (a module, its parameters, or tensors)
 * in place by `min(1, maxNorm / (norm + 1e-6))`, where `norm` is the global L2 norm of all
 * their gradients, and returns that norm (before clipping) as a `[1]` tensor. Parameters
 * without a gradient (frozen) are skipped; with no gradient at all the norm is 0.
 *
 * @throws {RangeError} when `maxNorm` is not a positive finite number.
 * @throws {TypeError} when `params` is empty or not a module, parameters or tensors.
 * @example One clipped step
 * ```ts ignore
 * backward(loss);
 * const norm = clipGradNorm(model, 1.0);
 * optimizer.step(lr);
 * ```
 */
export function clipGradNorm(params: Parameters, maxNorm: number): Tensor {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new RangeError(
      `Cannot clip gradients: maxNorm is ${maxNorm}, expected a positive number`,
    );
  }
  const tensors = parameterTensors(params, "clip gradients");
  if (tensors.length === 0) {
    throw new TypeError("Cannot clip gradients: no parameters were given");
  }
  const gpu = tensors[0].gpu;
  return forwardScope(gpu, () => {
    // Zeros pending (zeroGrad, no gradient since) add nothing to the norm and stay zeros.
    const grads = tensors.flatMap((p) => (p.grad && p.grad.pendingFill !== 0 ? [p.grad] : []));
    const norm = globalNorm(grads, gpu);
    const { groups, large } = smallGroups(
      grads.map((tensor) => ({ tensor })),
      groupSize(gpu, 1, 1),
    );
    for (const group of groups) {
      const { bound, offsets } = groupBindings(group);
      dispatch(scaleClipMulti(group.length), { norm, ...bound }, { ...offsets, max_norm: maxNorm });
    }
    // Large gradients owe the scaling: AdamW applies it as it reads them, any other use first.
    for (const { tensor: grad } of large) grad.clipLater(norm, maxNorm);
    return norm;
  });
}
