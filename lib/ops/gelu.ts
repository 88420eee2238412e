/**
 * `gelu`: exact (erf) GELU on the kernels of `kernels/gelu.ts`.
 *
 * @module
 */

import {
  geluBackward,
  geluBackwardVec4,
  geluForward,
  geluForwardVec4,
} from "../../kernels/gelu.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, type Tensor } from "../autograd/tensor.ts";
import { dispatch, empty } from "./_dispatch.ts";

/**
 * GELU with the exact normal CDF: x·Φ(x), BERT's `"gelu"` activation.
 *
 * @param inputs `x` of any shape.
 * @returns gelu(x), shaped as `x`.
 * @throws {TypeError} when `x` is i32.
 * @example Feed-forward activation
 * ```ts ignore
 * const h = gelu({ x: intermediate }); // [B, T, I]
 * ```
 */
export const gelu: Op<{ x: Tensor }, Record<string, never>> = defineOp<
  { x: Tensor },
  Record<string, never>,
  { x: Tensor }
>({
  name: "gelu",
  forward(ctx, { x }) {
    assertDType(x, "f32", `run "gelu"`, "x");
    const out = empty(x.gpu, x.shape);
    if (x.size % 4 === 0) {
      dispatch(geluForwardVec4, { inp: x, out }, { n4: x.size / 4 });
    } else dispatch(geluForward, { inp: x, out }, { n: x.size });
    ctx.save({ x });
    return out;
  },
  backward(ctx, dout) {
    const { x } = ctx.saved;
    const dinp = empty(x.gpu, x.shape);
    if (x.size % 4 === 0) {
      dispatch(geluBackwardVec4, { inp: x, dout, dinp }, { n4: x.size / 4 });
    } else {
      dispatch(geluBackward, { inp: x, dout, dinp }, { n: x.size });
    }
    return { x: dinp };
  },
});
