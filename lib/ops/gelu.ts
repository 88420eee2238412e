/**
 * `gelu`: exact (erf) GELU on the kernels of `kernels/gelu.ts`.
 *
 * @module
 */

import { GELU, GELU_VEC4 } from "../../kernels/gelu.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

/** The vec4 kernels where the size allows, the f32 ones otherwise. */
const kernelsFor = (x: Tensor) => (x.size % 4 === 0 ? GELU_VEC4 : GELU);

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
    const k = kernelsFor(x);
    dispatch(k.forward, { inp: x, out }, { n: x.size / k.width });
    ctx.save({ x });
    return out;
  },
  backward(ctx, dout) {
    const { x } = ctx.saved;
    const dinp = empty(x.gpu, x.shape);
    const k = kernelsFor(x);
    dispatch(k.backward, { inp: x, dout, dinp }, { n: x.size / k.width });
    return { x: dinp };
  },
});
