/**
 * `slice` (a range of one axis, e.g. the [CLS] row `slice({ x }, { axis: 1, start: 0, end: 1 })`)
 * and `concat` (two tensors along one axis), for f32 and i32 tensors. Kernels:
 * `kernels/slice.ts`.
 *
 * @module
 */

import { axisView } from "../../kernels/reduce.ts";
import { wordFor } from "../../kernels/copy_word.ts";
import {
  concatForward,
  concatForwardVec4,
  sliceBackward,
  sliceBackwardVec4,
  sliceForward,
  sliceForwardVec4,
} from "../../kernels/slice.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

type View = { outer: number; r: number; inner: number; axis: number };

function sliceCopy(x: Tensor, v: View, start: number, count: number): Tensor {
  const shape = x.shape.map((d, k) => (k === v.axis ? count : d));
  const out = empty(x.gpu, shape, x.dtype);
  const { width } = wordFor(v.inner);
  dispatch(width === 4 ? sliceForwardVec4 : sliceForward, { inp: x, out }, {
    n: out.size / width,
    len: v.r,
    count,
    start,
    inner: v.inner / width,
  });
  return out;
}

/** Options of `slice`: the axis and the half-open range `[start, end)` along it. */
export type SliceOptions = { axis: number; start: number; end: number };
type SliceSaved = { shape: readonly number[]; view: View; start: number };

/**
 * `x` restricted to `start ≤ i < end` along `axis` (negative axes count from the end); the
 * axis keeps its place with size `end − start`. The gradient is `dout` placed into zeros.
 *
 * @throws {RangeError} when `axis` or the range is out of bounds.
 * @example The [CLS] vector of each sequence
 * ```ts ignore
 * const cls = slice({ x: hidden }, { axis: 1, start: 0, end: 1 }); // [B, T, C] → [B, 1, C]
 * ```
 */
export const slice: Op<{ x: Tensor }, SliceOptions> = defineOp<
  { x: Tensor },
  SliceOptions,
  SliceSaved
>({
  name: "slice",
  forward(ctx, { x }, { axis, start, end }) {
    const view = axisView(x.shape, axis, `run "slice" on`);
    if (
      !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > view.r ||
      start > end
    ) {
      throw new RangeError(
        `Cannot run "slice": range [${start}, ${end}) is outside axis ${axis} of size ${view.r}`,
      );
    }
    ctx.save({ shape: x.shape, view, start });
    return sliceCopy(x, view, start, end - start);
  },
  backward(ctx, dout) {
    const { shape, view, start } = ctx.saved;
    const dx = empty(dout.gpu, shape);
    const { width } = wordFor(view.inner);
    dispatch(width === 4 ? sliceBackwardVec4 : sliceBackward, { dout, dinp: dx }, {
      n: dx.size / width,
      len: view.r,
      count: dout.shape[view.axis],
      start,
      inner: view.inner / width,
    });
    return { x: dx };
  },
});

type ConcatSaved = { va: View; vb: View };

/**
 * `a` and `b` joined along `axis`: every other dimension must agree, and so must the dtypes.
 * The gradient is `dout` sliced back into the two parts.
 *
 * @throws {TypeError} when ranks, other dimensions or dtypes differ.
 * @throws {RangeError} when `axis` is out of range.
 */
export const concat: Op<{ a: Tensor; b: Tensor }, { axis: number }> = defineOp<
  { a: Tensor; b: Tensor },
  { axis: number },
  ConcatSaved
>({
  name: "concat",
  forward(ctx, { a, b }, { axis }) {
    const va = axisView(a.shape, axis, `run "concat" on`);
    const sameOthers = a.shape.length === b.shape.length &&
      a.shape.every((d, k) => k === va.axis || d === b.shape[k]);
    if (!sameOthers || a.dtype !== b.dtype) {
      throw new TypeError(
        `Cannot run "concat": "a" is [${a.shape.join(", ")}] ${a.dtype} and "b" is [${
          b.shape.join(", ")
        }] ${b.dtype}; they must agree except along axis ${axis}`,
      );
    }
    const vb = axisView(b.shape, axis);
    const shape = a.shape.map((d, k) => (k === va.axis ? va.r + vb.r : d));
    const out = empty(a.gpu, shape, a.dtype);
    const { width } = wordFor(va.inner);
    dispatch(width === 4 ? concatForwardVec4 : concatForward, { a, b, out }, {
      n: out.size / width,
      la: va.r,
      lb: vb.r,
      inner: va.inner / width,
    });
    ctx.save({ va, vb });
    return out;
  },
  backward(ctx, dout) {
    const { va, vb } = ctx.saved;
    const whole = { ...va, r: va.r + vb.r };
    return {
      a: ctx.needsGrad.a ? sliceCopy(dout, whole, 0, va.r) : undefined,
      b: ctx.needsGrad.b ? sliceCopy(dout, whole, va.r, vb.r) : undefined,
    };
  },
});
