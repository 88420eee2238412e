/**
 * `globalNorm`: the L2 norm over every element of many tensors, as a `[1]` tensor on the GPU
 * (no readback), for gradient clipping and logging. Kernels: `sum_partial` (`sum_partial_vec4`
 * for sizes that are multiples of 4) and `sum_final` in `kernels/reduce.ts`.
 *
 * @module
 */

import {
  sumFinal,
  sumGroups,
  sumGroupsVec4,
  sumPartial,
  sumPartialVec4,
} from "../../kernels/reduce.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import type { Gpu } from "../gpu/device.ts";
import { dispatch } from "../gpu/dispatch.ts";

/**
 * √(Σ over `tensors` of Σ x²) as a new `[1]` f32 tensor (no gradient). Each tensor writes its
 * own range of partial sums of squares; one workgroup sums them in a fixed order, so the
 * result is deterministic. An empty list gives 0 when `gpu` is passed.
 *
 * @throws {TypeError} when a tensor is i32, tensors live on different devices, or the list is
 *   empty and no `gpu` is given.
 * @example Gradient norm for logging
 * ```ts ignore
 * const norm = globalNorm(params.map((p) => p.grad!));
 * console.log((await norm.readFloat())[0]);
 * ```
 */
export function globalNorm(tensors: Tensor[], gpu?: Gpu): Tensor {
  const device = tensors[0]?.gpu ?? gpu;
  if (!device) {
    throw new TypeError(`Cannot run "globalNorm": no tensors were given and no device`);
  }
  let total = 0;
  const groups = tensors.map((t, i) => {
    assertDType(t, "f32", `run "globalNorm"`, `tensors[${i}]`);
    if (t.gpu !== device) {
      throw new TypeError(`Cannot run "globalNorm": "tensors[${i}]" lives on another device`);
    }
    const g = t.size % 4 === 0 ? sumGroupsVec4(t.size / 4) : sumGroups(t.size);
    total += g;
    return g;
  });
  const partial = empty(device, [total]);
  let base = 0;
  tensors.forEach((t, i) => {
    const vec4 = t.size % 4 === 0;
    dispatch(vec4 ? sumPartialVec4 : sumPartial, { inp: t, partial }, {
      n: vec4 ? t.size / 4 : t.size,
      base,
      groups: groups[i],
      square: 1,
    });
    base += groups[i];
  });
  const out = empty(device, [1]);
  dispatch(sumFinal, { partial, out }, { count: total, scale: 1, square: 0, root: 1 });
  return out;
}
