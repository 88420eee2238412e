/**
 * `gatherRows`: rows of a tensor picked by an index (`x[index]` along the first axis), e.g. the
 * examples of one task out of a mixed batch. The gradient is a deterministic scatter-add, so
 * repeated indices are summed in index order. Kernels: `gather_rows` in `kernels/embedding.ts`
 * and `kernels/scatter_add.ts`.
 *
 * @module
 */

import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, assertShape, empty, type Tensor } from "../autograd/tensor.ts";
import { gatherInto, scatterAddRows } from "./scatter_add.ts";

type Saved = { index: Tensor; shape: readonly number[] };

/**
 * `x` `[N, ...]` and i32 `index` `[M]` → `[M, ...]` with row m = `x[index[m]]` (f32 or i32).
 * Indices outside `[0, N)` are clamped in the kernel and reported at the next readback.
 *
 * @throws {TypeError} when `x` has rank 0 or `index` is not an i32 `[M]` tensor.
 * @example Rows of task 2
 * ```ts ignore
 * const pooled2 = gatherRows({ x: pooled }, { index: rowsOfTask2 }); // [B, C] → [M, C]
 * ```
 */
export const gatherRows: Op<{ x: Tensor }, { index: Tensor }> = defineOp<
  { x: Tensor },
  { index: Tensor },
  Saved
>({
  name: "gatherRows",
  forward(ctx, { x }, { index }) {
    const action = `run "gatherRows"`;
    assertDType(index, "i32", action, "index");
    const { M } = assertShape(index, ["M"], "index", {}, action);
    if (x.shape.length === 0) throw new TypeError(`Cannot ${action}: "x" has rank 0`);
    const rows = x.shape[0];
    const out = empty(x.gpu, [M, ...x.shape.slice(1)], x.dtype);
    gatherInto({ table: x, index, out }, {
      rows,
      site: { action: `${action} on`, tensor: "index", limitName: 'rows of "x"' },
    });
    ctx.save({ index, shape: x.shape });
    return out;
  },
  backward(ctx, dout) {
    return { x: scatterAddRows(dout, ctx.saved.index, ctx.saved.shape) };
  },
});
