/**
 * `sum` and `mean` over all elements (→ `[1]`) or over one axis (that axis dropped), on the
 * tree reductions of `kernels/reduce.ts`, plus `reduceAll`, the two-pass whole-tensor sum that
 * the losses and the global norm build on.
 *
 * @module
 */

import {
  axisView,
  broadcastAxis,
  rowReduceWorkgroupSize,
  SINGLE_PASS_MAX,
  sumAxisCols,
  sumAxisRows,
  sumFinal,
  sumGroups,
  sumPartial,
} from "../../kernels/reduce.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

/** Outputs at least this many use one invocation per output in `sum_axis_cols`. */
const COLS_MIN_OUTPUTS = 4096;

/**
 * `scale · Σ x` (or `scale · Σ x²` with `square`, square-rooted with `root`) over every
 * element of `x`, as a new `[1]` tensor. Deterministic: the partial count depends only on
 * `x.size`.
 */
export function reduceAll(
  x: Tensor,
  { scale = 1, square = false, root = false }: {
    scale?: number;
    square?: boolean;
    root?: boolean;
  } = {},
): Tensor {
  const out = empty(x.gpu, [1]);
  const n = x.size;
  if (n <= SINGLE_PASS_MAX) {
    dispatch(sumFinal, { partial: x, out }, {
      count: n,
      scale,
      square: square ? 1 : 0,
      root: root ? 1 : 0,
    });
    return out;
  }
  const groups = sumGroups(n);
  const partial = empty(x.gpu, [groups]);
  dispatch(sumPartial, { inp: x, partial }, { n, base: 0, groups, square: square ? 1 : 0 });
  dispatch(sumFinal, { partial, out }, { count: groups, scale, square: 0, root: root ? 1 : 0 });
  return out;
}

function sumAxis(x: Tensor, axis: number | undefined, mean: boolean, name: string): Tensor {
  assertDType(x, "f32", `run "${name}"`, "x");
  if (axis === undefined) return reduceAll(x, { scale: mean ? 1 / Math.max(1, x.size) : 1 });
  const v = axisView(x.shape, axis, `run "${name}" on`);
  const scale = mean ? 1 / Math.max(1, v.r) : 1;
  const shape = x.shape.filter((_, k) => k !== v.axis);
  const out = empty(x.gpu, shape.length > 0 ? shape : [1]);
  const params = { outer: v.outer, r: v.r, inner: v.inner, scale };
  const cols = v.inner > 1 && v.outer * v.inner >= COLS_MIN_OUTPUTS;
  if (cols) dispatch(sumAxisCols, { inp: x, out }, params);
  else dispatch(sumAxisRows, { inp: x, out }, params, { WG: rowReduceWorkgroupSize(v.r) });
  return out;
}

function broadcastBack(
  dout: Tensor,
  shape: readonly number[],
  axis: number | undefined,
  mean: boolean,
): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const v = axis === undefined ? { r: n, inner: 1 } : axisView(shape, axis);
  const dx = empty(dout.gpu, shape);
  dispatch(broadcastAxis, { dout, out: dx }, {
    n,
    r: v.r,
    inner: v.inner,
    scale: mean ? 1 / Math.max(1, v.r) : 1,
  });
  return dx;
}

/** Options of `sum` and `mean`: the axis to reduce (all elements when left out). */
export type AxisOptions = { axis?: number };
type Saved = { shape: readonly number[]; axis?: number };

/**
 * Sum of `x` over all elements (→ `[1]`) or over `axis` (negative counts from the end; the
 * axis is dropped, a rank-1 input gives `[1]`).
 *
 * @throws {TypeError} when `x` is i32. @throws {RangeError} when `axis` is out of range.
 * @example Column sums
 * ```ts ignore
 * const s = sum({ x }, { axis: 0 }); // [R, C] → [C]
 * ```
 */
export const sum: Op<{ x: Tensor }, AxisOptions> = defineOp<{ x: Tensor }, AxisOptions, Saved>({
  name: "sum",
  forward(ctx, { x }, { axis }) {
    ctx.save({ shape: x.shape, axis });
    return sumAxis(x, axis, false, "sum");
  },
  backward(ctx, dout) {
    return { x: broadcastBack(dout, ctx.saved.shape, ctx.saved.axis, false) };
  },
});

/**
 * Mean of `x` over all elements (→ `[1]`) or over `axis` (dropped), as `sum` but divided by
 * the number of summed elements.
 *
 * @throws {TypeError} when `x` is i32. @throws {RangeError} when `axis` is out of range.
 */
export const mean: Op<{ x: Tensor }, AxisOptions> = defineOp<{ x: Tensor }, AxisOptions, Saved>({
  name: "mean",
  forward(ctx, { x }, { axis }) {
    ctx.save({ shape: x.shape, axis });
    return sumAxis(x, axis, true, "mean");
  },
  backward(ctx, dout) {
    return { x: broadcastBack(dout, ctx.saved.shape, ctx.saved.axis, true) };
  },
});
