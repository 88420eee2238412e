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
import { sumSquaresMulti } from "../../kernels/multi_tensor.ts";
import { groupBindings, groupSize, smallGroups } from "./foreach.ts";

/**
 * √(Σ over `tensors` of Σ x²) as a new `[1]` f32 tensor (no gradient). Each tensor writes its
 * own range of partial sums of squares (small tensors one each, several per dispatch); one
 * workgroup sums them in a fixed order, so the result is deterministic. An empty list gives 0 when `gpu` is passed.
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
  tensors.forEach((t, i) => {
    assertDType(t, "f32", `run "globalNorm"`, `tensors[${i}]`);
    if (t.gpu !== device) {
      throw new TypeError(`Cannot run "globalNorm": "tensors[${i}]" lives on another device`);
    }
  });
  // Small tensors: one partial each, g tensors per dispatch; the others: their own partials.
  const { groups, large } = smallGroups(
    tensors.map((tensor) => ({ tensor })),
    groupSize(device, 1, 1),
  );
  const partsOf = (t: Tensor) => t.size % 4 === 0 ? sumGroupsVec4(t.size / 4) : sumGroups(t.size);
  const total = groups.reduce((a, g) => a + g.length, 0) +
    large.reduce((a, { tensor }) => a + partsOf(tensor), 0);
  const partial = empty(device, [total]);
  let base = 0;
  for (const group of groups) {
    const { bound, offsets } = groupBindings(group);
    dispatch(sumSquaresMulti(group.length), { ...bound, partial }, { ...offsets, base });
    base += group.length;
  }
  for (const { tensor: t } of large) {
    const vec4 = t.size % 4 === 0, parts = partsOf(t);
    dispatch(vec4 ? sumPartialVec4 : sumPartial, { inp: t, partial }, {
      n: vec4 ? t.size / 4 : t.size,
      base,
      groups: parts,
      square: 1,
    });
    base += parts;
  }
  const out = empty(device, [1]);
  dispatch(sumFinal, { partial, out }, { count: total, scale: 1, square: 0, root: 1 });
  return out;
}
