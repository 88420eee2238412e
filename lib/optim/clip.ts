/**
 * `clipGradNorm`: PyTorch `clip_grad_norm_` on the GPU. The norm never leaves the GPU: the
 * clip kernel reads it from its buffer, so clipping adds no sync point to a training step.
 *
 * @module
 */

import { gradClipScale } from "../../kernels/global_norm.ts";
import type { Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../ops/_dispatch.ts";
import { globalNorm } from "../ops/global_norm.ts";

/**
 * Scales the gradient of every parameter in `params` in place by
 * `min(1, maxNorm / (norm + 1e-6))`, where `norm` is the global L2 norm of all their
 * gradients, and returns that norm (before clipping) as a `[1]` tensor. Parameters without a
 * gradient (frozen) are skipped; with no gradient at all the norm is 0.
 *
 * @throws {RangeError} when `maxNorm` is not a positive finite number.
 * @throws {TypeError} when `params` is empty.
 * @example One clipped step
 * ```ts ignore
 * backward(loss);
 * const norm = clipGradNorm(params, 1.0);
 * optimizer.step(lr);
 * ```
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): Tensor {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) {
    throw new RangeError(
      `Cannot clip gradients: maxNorm is ${maxNorm}, expected a positive number`,
    );
  }
  if (params.length === 0) throw new TypeError("Cannot clip gradients: no parameters were given");
  const grads = params.flatMap((p) => (p.grad ? [p.grad] : []));
  const norm = globalNorm(grads, params[0]?.gpu);
  for (const grad of grads) {
    dispatch(gradClipScale, { norm, grad }, { n: grad.size, max_norm: maxNorm });
  }
  return norm;
}
