/**
 * `film`: `(1 + γ) ⊙ x + β` with `[γ | β]` given per example (docs/model.md §2.2). The generator is
 * a plain `Linear` whose output `gb` `[B, 2D]` feeds this op.
 *
 * @module
 */

import { filmBackwardGb, filmBackwardX, filmForward, type FilmSizes } from "../../kernels/film.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

function sizesOf(x: Tensor, gb: Tensor): FilmSizes {
  assertDType(x, "f32", 'run "film"', "x");
  assertDType(gb, "f32", 'run "film"', "gb");
  const bad = () =>
    new TypeError(
      `Cannot run "film": x is [${x.shape.join(", ")}] and gb is [${gb.shape.join(", ")}]; ` +
        `expected x [B, R, D] or [R, D] (or [D]) and gb [B, 2D]`,
    );
  if (gb.shape.length !== 2) throw bad();
  const [B, twoD] = gb.shape;
  const D = x.shape[x.shape.length - 1];
  if (twoD !== 2 * D) throw bad();
  if (x.shape.length === 3) {
    if (x.shape[0] !== B) throw bad();
    return { B, R: x.shape[1], D, shared: false };
  }
  if (x.shape.length === 2) return { B, R: x.shape[0], D, shared: true };
  if (x.shape.length === 1) return { B, R: 1, D, shared: true };
  throw bad();
}

function params(s: FilmSizes, n: number) {
  return { n, B: s.B, R: s.R, D: s.D, bcast: s.shared ? 1 : 0 };
}

/**
 * Feature-wise linear modulation: `(1 + γ_b) ⊙ x_b + β_b` for each example b, with γ and β
 * the two halves of the last axis of `gb`. Differentiable in both inputs.
 *
 * @param inputs.x `[B, R, D]`, or `[R, D]` / `[D]` shared by the batch
 * @param inputs.gb `[B, 2D]`: γ then β
 * @returns `[B, R, D]` (`[B, D]` when x is `[D]`)
 * @throws {TypeError} when an input is i32 or the shapes do not fit together.
 * @example Condition hidden states on a task embedding
 * ```ts ignore
 * const gb = linear({ x: taskEmbedding, weight, bias }); // [B, 2C]
 * const y = film({ x: hidden, gb }); // hidden [B, T, C] → [B, T, C]
 * ```
 */
export const film: Op<{ x: Tensor; gb: Tensor }, Record<string, never>> = defineOp<
  { x: Tensor; gb: Tensor },
  Record<string, never>,
  { x: Tensor; gb: Tensor; sizes: FilmSizes }
>({
  name: "film",
  forward(ctx, { x, gb }) {
    const sizes = sizesOf(x, gb);
    ctx.save({ x, gb, sizes });
    const shape = x.shape.length === 1 ? [sizes.B, sizes.D] : [sizes.B, sizes.R, sizes.D];
    const out = empty(x.gpu, shape);
    dispatch(filmForward, { x, gb, out }, params(sizes, out.size));
    return out;
  },
  backward(ctx, dout) {
    const { x, gb, sizes } = ctx.saved;
    let dx: Tensor | undefined, dgb: Tensor | undefined;
    if (ctx.needsGrad.x) {
      dx = empty(x.gpu, x.shape);
      dispatch(filmBackwardX, { dout, gb, dx }, params(sizes, dx.size));
    }
    if (ctx.needsGrad.gb) {
      dgb = empty(x.gpu, gb.shape);
      dispatch(filmBackwardGb, { dout, x, dgb }, params(sizes, sizes.B * sizes.D));
    }
    return { x: dx, gb: dgb };
  },
});
