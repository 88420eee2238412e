/**
 * `softmax`: softmax over the last axis, with the optional conditional-attention bias
 * (differentiable, shared by every head) and padding mask (not differentiable) of CA-MTL
 * attention, on the kernels of `kernels/softmax.ts`.
 *
 * @module
 */

import { rowWorkgroupSize } from "../../kernels/kernel.ts";
import {
  softmaxBackward,
  softmaxBackwardLanes,
  softmaxBiasBackward,
  softmaxForward,
  softmaxForwardLanes,
} from "../../kernels/softmax.ts";
import { defineOp } from "../autograd/op.ts";
import { assertDType, assertShape, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { laneRows } from "../gpu/kernel_choice.ts";

/** Inputs of {@linkcode softmax}. */
export interface SoftmaxInputs {
  /** `[..., N]`; `[B, NH, Tq, Tk]` when a bias or mask is given. */
  x: Tensor;
  /** `[B, Tq, Tk]`, added to every head before the softmax (differentiable). */
  bias?: Tensor;
}

/** Options of {@linkcode softmax}. */
export interface SoftmaxOptions {
  /** `[B, Tk]` additive mask (0 keeps, −10000 masks), added after the bias; no gradient. */
  mask?: Tensor;
}

interface Dims {
  rows: number;
  n: number;
  nh: number;
  tq: number;
}

interface Saved extends Record<string, unknown> {
  y: Tensor;
  dims: Dims;
}

const ACTION = `run "softmax"`;

function check(x: Tensor, bias: Tensor | undefined, mask: Tensor | undefined): Dims {
  assertDType(x, "f32", ACTION, "x");
  if (x.shape.length === 0) {
    throw new TypeError(`Cannot ${ACTION}: "x" is a scalar, expected [..., N]`);
  }
  const n = x.shape[x.shape.length - 1];
  const rows = n === 0 ? 0 : x.size / n;
  if (!bias && !mask) return { rows, n, nh: 1, tq: 1 };
  const dims = assertShape(x, ["B", "NH", "Tq", "Tk"], "x", {}, ACTION);
  if (bias) {
    assertDType(bias, "f32", ACTION, "bias");
    assertShape(bias, ["B", "Tq", "Tk"], "bias", dims, ACTION);
  }
  if (mask) {
    assertDType(mask, "f32", ACTION, "mask");
    assertShape(mask, ["B", "Tk"], "mask", dims, ACTION);
  }
  return { rows, n, nh: Math.max(1, dims.NH), tq: Math.max(1, dims.Tq) };
}

const softmaxOp = defineOp<Record<string, Tensor>, SoftmaxOptions, Saved>({
  name: "softmax",
  forward(ctx, { x, bias }, { mask }) {
    const dims = check(x, bias, mask);
    const out = empty(x.gpu, x.shape);
    const terms = { HAS_BIAS: bias ? 1 : 0, HAS_MASK: mask ? 1 : 0 };
    const buffers = { x, bias: bias ?? x, mask: mask ?? x, out };
    if (laneRows(x, dims.n)) dispatch(softmaxForwardLanes, buffers, dims, terms);
    else dispatch(softmaxForward, buffers, dims, { WG: rowWorkgroupSize(dims.n), ...terms });
    ctx.save({ y: out, dims });
    return out;
  },
  backward(ctx, dout) {
    const { y, dims } = ctx.saved;
    const dx = empty(y.gpu, y.shape);
    if (laneRows(y, dims.n)) {
      dispatch(softmaxBackwardLanes, { y, dout, dx }, { rows: dims.rows, n: dims.n });
    } else {
      dispatch(softmaxBackward, { y, dout, dx }, { rows: dims.rows, n: dims.n }, {
        WG: rowWorkgroupSize(dims.n),
      });
    }
    if (!ctx.needsGrad.bias) return { x: dx };
    const b = y.shape[0];
    const dbias = empty(y.gpu, [b, dims.tq, dims.n]);
    const per = dims.tq * dims.n;
    dispatch(softmaxBiasBackward, { dx, dbias }, { n: dbias.size, nh: dims.nh, per });
    return { x: ctx.needsGrad.x ? dx : undefined, bias: dbias };
  },
});

/**
 * Softmax over the last axis of `x + bias + mask`, subtracting the row maximum so that large
 * logits and fully masked rows stay finite.
 *
 * @param inputs `x` `[..., N]`, or `[B, NH, Tq, Tk]` with the optional `bias` `[B, Tq, Tk]`
 *   (CA-MTL's conditional attention matrix, added to every head; its gradient sums the heads).
 * @param options `mask` `[B, Tk]`: additive f32 padding mask, not differentiated.
 * @returns the probabilities, shaped as `x`.
 * @throws {TypeError} on i32 tensors or shapes that do not match.
 * @example Attention probabilities
 * ```ts ignore
 * const probs = softmax({ x: scores, bias: condBias }, { mask }); // [B, NH, T, T]
 * ```
 */
export function softmax(inputs: SoftmaxInputs, options: SoftmaxOptions = {}): Tensor {
  const { x, bias } = inputs;
  return softmaxOp(bias ? { x, bias } : { x }, options);
}
