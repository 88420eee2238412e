/**
 * `dropout`: inverted dropout with a counter-based mask, on the kernel of `kernels/dropout.ts`.
 *
 * @module
 */

import {
  dropoutForward,
  dropoutForwardVec4,
  type DropoutParams,
  dropoutUniforms,
} from "../../kernels/dropout.ts";
import { defineOp } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

const ACTION = `run "dropout"`;

function applyMask(t: Tensor, { p, seed, offset = 0 }: DropoutParams): Tensor {
  const out = empty(t.gpu, t.shape);
  const vec4 = t.size % 4 === 0;
  dispatch(vec4 ? dropoutForwardVec4 : dropoutForward, { inp: t, out }, {
    n: vec4 ? t.size / 4 : t.size,
    seed,
    offset,
    ...dropoutUniforms(p),
  });
  return out;
}

const dropoutOp = defineOp<{ x: Tensor }, DropoutParams, { params: DropoutParams }>({
  name: "dropout",
  forward(ctx, { x }, params) {
    ctx.save({ params });
    return applyMask(x, params);
  },
  backward(ctx, dout) {
    // The same (seed, offset) regenerates the forward's mask.
    return { x: applyMask(dout, ctx.saved.params) };
  },
});

function checkU32(value: number | undefined, name: string, required: boolean): void {
  if (value === undefined && !required) return;
  if (value === undefined || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`Cannot ${ACTION}: ${name} is ${value}, expected an integer in [0, 2^32)`);
  }
}

/**
 * Inverted dropout: zeroes each element with probability `p` and scales the rest by
 * 1/(1 − p). The mask is a hash of (element index, seed, offset): the same options give the
 * same mask, and the backward recomputes it rather than storing it.
 *
 * @param inputs `x` of any shape.
 * @param options `p` in [0, 1]; `seed` and `offset` (default 0) are 32-bit unsigned integers.
 * @returns a new tensor shaped as `x`, or `x` itself when `p` is 0 (no dispatch).
 * @throws {TypeError} when `x` is i32.
 * @throws {RangeError} when `p`, `seed` or `offset` is out of range.
 * @example One stream per site and step
 * ```ts ignore
 * const h = dropout({ x }, { p: 0.1, seed: run.seed, offset: step * SITES + site });
 * ```
 */
export function dropout({ x }: { x: Tensor }, options: DropoutParams): Tensor {
  assertDType(x, "f32", ACTION, "x");
  const { p, seed, offset } = options;
  if (!(p >= 0 && p <= 1)) {
    throw new RangeError(`Cannot ${ACTION}: p is ${p}, expected 0 <= p <= 1`);
  }
  checkU32(seed, "seed", true);
  checkU32(offset, "offset", false);
  if (p === 0) return x;
  return dropoutOp({ x }, { p, seed, offset });
}
