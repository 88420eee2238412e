/**
 * `reshape`: the same data under another shape, as a zero-copy view (the new tensor shares
 * the buffer of `x`; see `viewOf` in `lib/autograd/tensor.ts`). Writing into either one is
 * visible in both.
 *
 * @module
 */

import { defineOp } from "../autograd/op.ts";
import { shapeSize, Tensor } from "../autograd/tensor.ts";

/** `shape` with one `-1` replaced by the size that makes it hold `size` elements. */
function resolveShape(shape: readonly number[], size: number, from: readonly number[]): number[] {
  const bad = () =>
    new TypeError(
      `Cannot reshape [${from.join(", ")}] to [${shape.join(", ")}]: sizes differ`,
    );
  const free = shape.filter((d) => d === -1).length;
  if (free > 1 || shape.some((d) => !Number.isInteger(d) || d < -1)) throw bad();
  const known = shapeSize(shape.filter((d) => d !== -1));
  if (free === 1) {
    if (known === 0 || size % known !== 0) throw bad();
    return shape.map((d) => (d === -1 ? size / known : d));
  }
  if (known !== size) throw bad();
  return [...shape];
}

function view(x: Tensor, shape: readonly number[]): Tensor {
  return new Tensor(x.gpu, shape, { dtype: x.dtype, viewOf: x });
}

const reshapeOp = defineOp<{ x: Tensor }, { shape: number[] }, { from: readonly number[] }>({
  name: "reshape",
  forward(ctx, { x }, { shape }) {
    ctx.save({ from: x.shape });
    return view(x, shape);
  },
  backward(ctx, dout) {
    return { x: view(dout, ctx.saved.from) };
  },
});

/**
 * `x` as `shape` (one dimension may be `-1`), without copying: a view sharing `x`'s buffer,
 * with a gradient that is a view of the output gradient.
 *
 * @throws {TypeError} when the sizes differ.
 * @example Flatten tokens for a linear layer
 * ```ts ignore
 * const flat = reshape(hidden, [-1, 768]); // [B, T, 768] → [B·T, 768]
 * ```
 */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return reshapeOp({ x }, { shape: resolveShape(shape, x.size, x.shape) });
}
