/**
 * Broadcasting `add`, `mul` and `scale`, and `reduceToShape`, on the kernels of
 * `kernels/elementwise.ts` (launched through `lib/autograd/accumulate.ts`, which also holds
 * `fillTensor`, `zeros` and `accumulateInto`).
 *
 * @module
 */

import { pad4, reduceTo, scaleForward } from "../../kernels/elementwise.ts";
import { binary, sameShape } from "../autograd/accumulate.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

/**
 * Sums `t` over its broadcast dimensions down to `shape` (returns `t` itself when the shapes
 * already agree).
 */
export function reduceToShape(t: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(t.shape, shape)) return t;
  const full = pad4(t.shape), o = pad4(shape);
  let r = 1;
  for (let k = 0; k < 4; k++) if (o[k] !== full[k]) r *= full[k];
  const out = empty(t.gpu, shape);
  dispatch(reduceTo, { inp: t, out }, {
    n: out.size,
    r,
    d0: full[0],
    d1: full[1],
    d2: full[2],
    d3: full[3],
    o0: o[0],
    o1: o[1],
    o2: o[2],
    o3: o[3],
  });
  return out;
}

/** `a + b` with broadcasting. @throws {TypeError} on incompatible shapes or i32 inputs. */
export const add: Op<{ a: Tensor; b: Tensor }, Record<string, never>> = defineOp<
  { a: Tensor; b: Tensor },
  Record<string, never>,
  { aShape: readonly number[]; bShape: readonly number[] }
>({
  name: "add",
  forward(ctx, { a, b }) {
    ctx.save({ aShape: a.shape, bShape: b.shape });
    return binary(a, b, 0, "add");
  },
  backward(ctx, dout) {
    const { aShape, bShape } = ctx.saved;
    return {
      a: ctx.needsGrad.a ? reduceToShape(dout, aShape) : undefined,
      b: ctx.needsGrad.b ? reduceToShape(dout, bShape) : undefined,
    };
  },
});

/** `a * b` elementwise with broadcasting. */
export const mul: Op<{ a: Tensor; b: Tensor }, Record<string, never>> = defineOp<
  { a: Tensor; b: Tensor },
  Record<string, never>,
  { a: Tensor; b: Tensor }
>({
  name: "mul",
  forward(ctx, { a, b }) {
    ctx.save({ a, b });
    return binary(a, b, 1, "mul");
  },
  backward(ctx, dout) {
    const { a, b } = ctx.saved;
    return {
      a: ctx.needsGrad.a ? reduceToShape(binary(dout, b, 1, "mul"), a.shape) : undefined,
      b: ctx.needsGrad.b ? reduceToShape(binary(dout, a, 1, "mul"), b.shape) : undefined,
    };
  },
});

function scaled(a: Tensor, s: number): Tensor {
  assertDType(a, "f32", `run "scale"`, "a");
  const out = empty(a.gpu, a.shape);
  dispatch(scaleForward, { a, out }, { n: a.size, s });
  return out;
}

/** `s · a` for a constant `s`. */
export const scale: Op<{ a: Tensor }, { s: number }> = defineOp<
  { a: Tensor },
  { s: number },
  { s: number }
>({
  name: "scale",
  forward(ctx, { a }, { s }) {
    ctx.save({ s });
    return scaled(a, s);
  },
  backward(ctx, dout) {
    return { a: scaled(dout, ctx.saved.s) };
  },
});
