/**
 * `layerNorm`: layer normalisation over the last axis with a `[C]` gain, or a per-example
 * `[B, C]` gain for CA-MTL's conditional layer norm, on the kernels of `kernels/layer_norm.ts`.
 *
 * @module
 */

import {
  layerNormBackward,
  layerNormBackwardLanes,
  layerNormForward,
  layerNormForwardLanes,
  layerNormParamBackward,
  rowWorkgroupSize,
} from "../../kernels/layer_norm.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, assertShape, empty, type Tensor } from "../autograd/tensor.ts";
import { MAX_GRID } from "../../kernels/kernel.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { laneRows } from "../gpu/kernel_choice.ts";
import { reduceToShape } from "./elementwise.ts";

/** Inputs of {@linkcode layerNorm}. */
export interface LayerNormInputs extends Record<string, Tensor> {
  /** `[..., C]`, normalised over the last axis. */
  x: Tensor;
  /** `[C]`, or `[B, C]` when x is `[B, T, C]` (one gain per example). */
  gain: Tensor;
  /** `[C]`. */
  bias: Tensor;
}

/** Options of {@linkcode layerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance; default 1e-12 (BERT's `layer_norm_eps`). */
  eps?: number;
}

interface Dims {
  rows: number;
  c: number;
  /** Rows that share one gain row (all rows for a `[C]` gain). */
  t: number;
}

interface Saved extends Record<string, unknown> {
  x: Tensor;
  gain: Tensor;
  mean: Tensor;
  rstd: Tensor;
  dims: Dims;
}

const ACTION = `run "layerNorm"`;
/** Rows summed per group by the parameter backward of a `[C]` gain, before the final sum. */
const ROWS_PER_GROUP = 32;

function check({ x, gain, bias }: LayerNormInputs, eps: number): Dims {
  assertDType(x, "f32", ACTION, "x");
  assertDType(gain, "f32", ACTION, "gain");
  assertDType(bias, "f32", ACTION, "bias");
  if (x.shape.length === 0) {
    throw new TypeError(`Cannot ${ACTION}: "x" is a scalar, expected [..., C]`);
  }
  const c = x.shape[x.shape.length - 1];
  const rows = x.size / Math.max(1, c);
  if (!(eps >= 0 && Number.isFinite(eps))) {
    throw new RangeError(`Cannot ${ACTION}: eps is ${eps}, expected a finite value >= 0`);
  }
  assertShape(bias, [c], "bias", { C: c }, ACTION);
  if (gain.shape.length === 2) {
    if (x.shape.length !== 3) {
      throw new TypeError(
        `Cannot ${ACTION}: "gain" is [${gain.shape.join(", ")}], a per-example gain needs ` +
          `"x" as [B, T, C], got [${x.shape.join(", ")}]`,
      );
    }
    const [b, t] = x.shape;
    assertShape(gain, [b, c], "gain", { B: b, C: c }, ACTION);
    if (b > MAX_GRID) {
      throw new RangeError(`Cannot ${ACTION}: batch ${b} exceeds ${MAX_GRID} per-example gains`);
    }
    return { rows, c, t: Math.max(1, t) };
  }
  assertShape(gain, [c], "gain", { C: c }, ACTION);
  return { rows, c, t: Math.max(1, rows) };
}

/**
 * Layer norm over the last axis, as PyTorch's `LayerNorm` (biased variance), with an optional
 * per-example gain: row r of a `[B, T, C]` input uses gain row ⌊r / T⌋.
 *
 * @param inputs `x` `[..., C]`; `gain` `[C]` or `[B, C]` (then `x` is `[B, T, C]`); `bias` `[C]`.
 * @param options `eps` (default 1e-12).
 * @returns `[..., C]`, the shape of `x`.
 * @throws {TypeError} on i32 inputs or shapes that do not match.
 * @throws {RangeError} on a negative or non-finite eps.
 * @example Conditional layer norm
 * ```ts ignore
 * const y = layerNorm({ x, gain: perExampleGain, bias }, { eps: 1e-12 }); // x [B, T, C], gain [B, C]
 * ```
 */

export const layerNorm: Op<LayerNormInputs, LayerNormOptions> = defineOp<
  LayerNormInputs,
  LayerNormOptions,
  Saved
>({
  name: "layerNorm",
  forward(ctx, inputs, { eps = 1e-12 }) {
    const dims = check(inputs, eps);
    const { x, gain, bias } = inputs;
    const out = empty(x.gpu, x.shape);
    const mean = empty(x.gpu, [dims.rows]), rstd = empty(x.gpu, [dims.rows]);
    const buffers = { x, gain, bias, out, mean, rstd };
    const params = { rows: dims.rows, c: dims.c, t: dims.t, eps };
    if (laneRows(x, dims.c)) dispatch(layerNormForwardLanes, buffers, params);
    else dispatch(layerNormForward, buffers, params, { WG: rowWorkgroupSize(dims.c) });
    ctx.save({ x, gain, mean, rstd, dims });
    return out;
  },
  backward(ctx, dout) {
    const { x, gain, mean, rstd, dims } = ctx.saved;
    const { rows, c, t } = dims;
    let dx: Tensor | undefined, dgain: Tensor | undefined, dbias: Tensor | undefined;
    if (ctx.needsGrad.x) {
      dx = empty(x.gpu, x.shape);
      const buffers = { x, gain, mean, rstd, dout, dx };
      if (laneRows(x, c)) dispatch(layerNormBackwardLanes, buffers, { rows, c, t });
      else dispatch(layerNormBackward, buffers, { rows, c, t }, { WG: rowWorkgroupSize(c) });
    }
    if (ctx.needsGrad.gain || ctx.needsGrad.bias) {
      // A [B, C] gain sums over the T rows of each example; a [C] gain over all rows, in
      // groups first so that many invocations share the work.
      const perGroup = gain.shape.length === 2 ? t : Math.max(
        ROWS_PER_GROUP,
        Math.ceil(rows / MAX_GRID),
      );
      const groups = gain.shape.length === 2
        ? gain.shape[0]
        : Math.max(1, Math.ceil(rows / perGroup));
      const gParts = empty(x.gpu, [groups, c]), bParts = empty(x.gpu, [groups, c]);
      dispatch(
        layerNormParamBackward,
        { x, mean, rstd, dout, dgain: gParts, dbias: bParts },
        { rows, c, per_group: perGroup, groups },
      );
      if (ctx.needsGrad.gain) {
        dgain = gain.shape.length === 2 ? gParts : reduceToShape(gParts, [c]);
      }
      if (ctx.needsGrad.bias) dbias = reduceToShape(bParts, [c]);
    }
    return { x: dx, gain: dgain, bias: dbias };
  },
});
