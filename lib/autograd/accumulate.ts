/**
 * The elementwise primitives that autograd itself needs, on the kernels of
 * `kernels/elementwise.ts`: filling, zeros, in-place accumulation and the broadcasting binary
 * launch that sums gradients meeting at a tensor. They record no graph; `lib/ops/elementwise.ts`
 * builds the differentiable `add` and `mul` on {@linkcode binary}.
 *
 * @module
 */

import {
  accumulate,
  accumulateVec4,
  binaryForward,
  binaryTailVec4,
  binaryVec4,
  broadcastShape,
  broadcastStrides,
  pad4,
} from "../../kernels/elementwise.ts";
import type { Gpu } from "../gpu/device.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { fillNow } from "./storage.ts";
import { assertDType, type DType, empty, shapeSize, Tensor } from "./tensor.ts";

/** True when two shapes are equal, dimension by dimension. */
export const sameShape = (x: readonly number[], y: readonly number[]): boolean =>
  x.length === y.length && x.every((d, i) => d === y[i]);

/**
 * `a + b` (`op` 0) or `a · b` (`op` 1) with broadcasting, into a new tensor; `name` is the op
 * named in errors.
 *
 * @throws {TypeError} on incompatible shapes or i32 inputs.
 */
export function binary(a: Tensor, b: Tensor, op: 0 | 1, name: string): Tensor {
  assertDType(a, "f32", `run "${name}"`, "a");
  assertDType(b, "f32", `run "${name}"`, "b");
  const shape = broadcastShape(a.shape, b.shape);
  if (sameShape(a.shape, b.shape) && a.size % 4 === 0) {
    const out = empty(a.gpu, shape);
    dispatch(binaryVec4, { a, b, out }, { n4: a.size / 4, op });
    return out;
  }
  const size = shapeSize(shape);
  if (size % 4 === 0 && isTail(a.shape, shape) && isTail(b.shape, shape)) {
    const out = empty(a.gpu, shape);
    dispatch(binaryTailVec4, { a, b, out }, { n4: size / 4, an4: a.size / 4, bn4: b.size / 4, op });
    return out;
  }
  const full = pad4(shape);
  const sa = broadcastStrides(a.shape, full), sb = broadcastStrides(b.shape, full);
  const out = empty(a.gpu, shape);
  dispatch(binaryForward, { a, b, out }, {
    n: out.size,
    op,
    d1: full[1],
    d2: full[2],
    d3: full[3],
    sa0: sa[0],
    sa1: sa[1],
    sa2: sa[2],
    sa3: sa[3],
    sb0: sb[0],
    sb1: sb[1],
    sb2: sb[2],
    sb3: sb[3],
  });
  return out;
}

/**
 * True when `shape`, its leading 1s dropped, is a suffix of `full` whose size is a multiple of 4
 * (so it repeats along `full`'s leading dimensions as whole vec4s).
 */
function isTail(shape: readonly number[], full: readonly number[]): boolean {
  let i = 0;
  while (i < shape.length && shape[i] === 1) i++;
  const rest = shape.slice(i);
  const suffix = full.slice(full.length - rest.length);
  return sameShape(rest, suffix) && shapeSize(rest) % 4 === 0;
}

/** Sets every element of `t` to `value`. */
export function fillTensor(t: Tensor, value: number): Tensor {
  assertDType(t, "f32", "fill tensor", "t");
  fillNow(t, value);
  return t;
}

/** A new tensor of zeros (persistent when asked). */
export function zeros(
  gpu: Gpu,
  shape: readonly number[],
  options: { persistent?: boolean; dtype?: DType } = {},
): Tensor {
  const t = new Tensor(gpu, shape, options);
  fillNow(t, 0);
  return t;
}

/** `dst += s · src` in place (same size). */
export function accumulateInto(dst: Tensor, src: Tensor, s = 1): void {
  if (dst.size !== src.size) {
    throw new TypeError(
      `Cannot accumulate [${src.shape.join(", ")}] into [${dst.shape.join(", ")}]: sizes differ`,
    );
  }
  const vec4 = dst.size % 4 === 0;
  dispatch(vec4 ? accumulateVec4 : accumulate, { src, dst }, {
    n: vec4 ? dst.size / 4 : dst.size,
    s,
  });
}
