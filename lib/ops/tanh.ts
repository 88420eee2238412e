/**
 * `tanh`: hyperbolic tangent on the kernels of `kernels/tanh.ts`, safe for large |x|.
 *
 * @module
 */

import { tanhBackward, tanhForward } from "../../kernels/tanh.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

/**
 * tanh(x) elementwise; the backward uses the saved output (1 − y²).
 *
 * @param inputs `x` of any shape.
 * @returns tanh(x), shaped as `x`, exactly ±1 for large |x| and never NaN for finite x.
 * @throws {TypeError} when `x` is i32.
 * @example Pooler activation
 * ```ts ignore
 * const pooled = tanh({ x: dense }); // [B, C]
 * ```
 */
export const tanh: Op<{ x: Tensor }, Record<string, never>> = defineOp<
  { x: Tensor },
  Record<string, never>,
  { y: Tensor }
>({
  name: "tanh",
  forward(ctx, { x }) {
    assertDType(x, "f32", `run "tanh"`, "x");
    const out = empty(x.gpu, x.shape);
    dispatch(tanhForward, { inp: x, out }, { n: x.size });
    ctx.save({ y: out });
    return out;
  },
  backward(ctx, dout) {
    const { y } = ctx.saved;
    const dinp = empty(y.gpu, y.shape);
    dispatch(tanhBackward, { out: y, dout, dinp }, { n: y.size });
    return { x: dinp };
  },
});
