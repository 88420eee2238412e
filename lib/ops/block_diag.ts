/**
 * `blockDiag`: CA-MTL's conditional attention matrix from the modulated block matrix, cropped
 * to the batch's sequence length (docs/model.md §4.2, §4.4).
 *
 * @module
 */

import { blockDiagBackward, blockDiagForward } from "../../kernels/block_diag.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

/**
 * @param inputs.x `[B, L, c]`: the modulated matrix Â per example
 * @param options.size T ≤ L, the padded length of the batch
 * @returns `[B, T, T]`
 */
export const blockDiag: Op<{ x: Tensor }, { size: number }> = defineOp<
  { x: Tensor },
  { size: number },
  { x: Tensor; size: number }
>({
  name: "block_diag",
  forward(ctx, { x }, { size }) {
    assertDType(x, "f32", 'run "block_diag"', "x");
    if (x.shape.length !== 3 || !(size >= 1 && size <= x.shape[1])) {
      throw new TypeError(
        `Cannot run "block_diag": x is [${x.shape.join(", ")}] and size is ${size}; ` +
          `expected x [B, L, c] and 1 ≤ size ≤ L`,
      );
    }
    ctx.save({ x, size });
    const [B, L, c] = x.shape;
    const out = empty(x.gpu, [B, size, size]);
    dispatch(blockDiagForward, { x, out }, { n: out.size, L, c, T: size });
    return out;
  },
  backward(ctx, dout) {
    const { x, size } = ctx.saved;
    const [, L, c] = x.shape;
    const dx = empty(x.gpu, x.shape);
    dispatch(blockDiagBackward, { dout, dx }, { n: dx.size, L, c, T: size });
    return { x: dx };
  },
});
