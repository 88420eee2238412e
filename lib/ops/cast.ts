/**
 * `castTensor`: a copy of a tensor in another float type (f32 ↔ f16), without autograd. The
 * f16 copies feed the f16 matmul kernels under `--fp16` (`lib/autograd/autocast.ts`); kernels:
 * `kernels/cast.ts`.
 *
 * @module
 */

import { castF16ToF32, castF32ToF16 } from "../../kernels/cast.ts";
import { empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";

/**
 * A new tensor (owned by the current scope) holding `t` converted to `dtype`: f32 → f16 rounds
 * to nearest even, with overflow to ±inf; f16 → f32 is exact. Returns `t` itself when it
 * already has `dtype`.
 *
 * @param t an f32 or f16 tensor, any shape.
 * @param dtype `"f16"` or `"f32"`.
 * @returns a tensor of `t`'s shape in `dtype`.
 * @throws {TypeError} for i32 tensors or an i32 target.
 * @example Half-precision copy of a weight
 * ```ts ignore
 * const w16 = castTensor(weight, "f16"); // [OUT, IN] f16, half the bytes
 * ```
 */
export function castTensor(t: Tensor, dtype: "f16" | "f32"): Tensor {
  if (t.dtype === "i32" || (dtype as string) === "i32") {
    throw new TypeError(
      `Cannot cast ${t} to ${dtype}: only f32 and f16 convert to each other`,
    );
  }
  if (t.dtype === dtype) return t;
  const out = empty(t.gpu, t.shape, dtype);
  if (t.size === 0) return out;
  if (dtype === "f16") dispatch(castF32ToF16, { inp: t, out }, { n: t.size });
  else dispatch(castF16ToF32, { inp: t, out }, { n: t.size });
  return out;
}
