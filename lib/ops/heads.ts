/**
 * `splitHeads` and `mergeHeads`: the reshapes around multi-head attention,
 * `[B, T, NH·HS]` ↔ `[B, NH, T, HS]` (HF BERT's `transpose_for_scores` and its inverse).
 * Kernel: `swap_middle` in `kernels/heads.ts`.
 *
 * @module
 */

import { wordFor } from "../../kernels/copy_word.ts";
import { swapMiddle, swapMiddleVec4 } from "../../kernels/heads.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertShape, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

/** `x` viewed as `[A, X, Y, D]` → a new `[A, Y, X, D]` array with shape `outShape`. */
function swap(x: Tensor, [dx, dy, d]: readonly number[], outShape: readonly number[]): Tensor {
  const out = empty(x.gpu, outShape, x.dtype);
  const { width } = wordFor(d);
  dispatch(width === 4 ? swapMiddleVec4 : swapMiddle, { inp: x, out }, {
    n: x.size / width,
    x: dx,
    y: dy,
    d: d / width,
  });
  return out;
}

/** `[B, T, NH·HS]` → `[B, NH, T, HS]`. */
function split(x: Tensor, heads: number): Tensor {
  const [b, t, c] = x.shape;
  const hs = c / heads;
  return swap(x, [t, heads, hs], [b, heads, t, hs]);
}

/** `[B, NH, T, HS]` → `[B, T, NH·HS]`. */
function merge(x: Tensor): Tensor {
  const [b, nh, t, hs] = x.shape;
  return swap(x, [nh, t, hs], [b, t, nh * hs]);
}

/**
 * `[B, T, NH·HS]` → `[B, NH, T, HS]` with `heads` = NH (works for f32 and i32).
 *
 * @throws {TypeError} when `x` is not rank 3 or its last dimension is not a multiple of
 *   `heads`.
 * @example Queries per head
 * ```ts ignore
 * const q = splitHeads({ x: query }, { heads: 12 }); // [32, 128, 768] → [32, 12, 128, 64]
 * ```
 */
export const splitHeads: Op<{ x: Tensor }, { heads: number }> = defineOp<
  { x: Tensor },
  { heads: number },
  Record<string, never>
>({
  name: "splitHeads",
  forward(_ctx, { x }, { heads }) {
    const action = `run "splitHeads"`;
    const { C } = assertShape(x, ["B", "T", "C"], "x", {}, action);
    if (!Number.isInteger(heads) || heads < 1 || C % heads !== 0) {
      throw new TypeError(
        `Cannot ${action}: "x" has ${C} channels, not a multiple of ${heads} heads`,
      );
    }
    return split(x, heads);
  },
  backward(_ctx, dout) {
    return { x: merge(dout) };
  },
});

/**
 * `[B, NH, T, HS]` → `[B, T, NH·HS]`, the inverse of `splitHeads`.
 *
 * @throws {TypeError} when `x` is not rank 4.
 */
export const mergeHeads: Op<{ x: Tensor }, Record<string, never>> = defineOp<
  { x: Tensor },
  Record<string, never>,
  { heads: number }
>({
  name: "mergeHeads",
  forward(ctx, { x }) {
    const { NH } = assertShape(x, ["B", "NH", "T", "HS"], "x", {}, `run "mergeHeads"`);
    ctx.save({ heads: NH });
    return merge(x);
  },
  backward(ctx, dout) {
    return { x: split(dout, ctx.saved.heads) };
  },
});
