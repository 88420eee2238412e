/**
 * The optimizer passes over many small tensors at once (`kernels/multi_tensor.ts`): tensors of
 * at most {@linkcode SMALL_TENSOR} elements are taken in groups, one dispatch per group, as
 * many per group as the device's storage-buffer limit allows; larger tensors keep their own
 * vec4 dispatch, where a dispatch's fixed cost is small next to the work.
 *
 * @module
 */

import { MAX_GROUP, offsetsOf } from "../../kernels/multi_tensor.ts";
import type { Tensor } from "../autograd/tensor.ts";
import type { Gpu } from "../gpu/device.ts";

/** Tensors up to this many elements go through the multi-tensor kernels. */
export const SMALL_TENSOR = 16384;

/** `items` split into the small ones, in groups of at most `size`, and the others. */
export function smallGroups<T extends { tensor: Tensor }>(
  items: readonly T[],
  size: number,
): { groups: T[][]; large: T[] } {
  const small = items.filter((x) => x.tensor.size <= SMALL_TENSOR && x.tensor.size > 0);
  const large = items.filter((x) => !(x.tensor.size <= SMALL_TENSOR && x.tensor.size > 0));
  const groups: T[][] = [];
  for (let i = 0; i < small.length; i += size) groups.push(small.slice(i, i + size));
  return { groups, large };
}

/**
 * Tensors per multi-tensor dispatch on `gpu`, when each takes `perTensor` storage bindings and
 * the kernel has `extra` more: within the device's `maxStorageBuffersPerShaderStage` (8 on
 * WebGPU's defaults, 32 on lavapipe) and {@linkcode MAX_GROUP}.
 */
export function groupSize(gpu: Gpu, perTensor: number, extra = 0): number {
  const limit = gpu.limits.maxStorageBuffersPerShaderStage;
  return Math.max(1, Math.min(MAX_GROUP, Math.floor((limit - extra) / perTensor)));
}

/**
 * A group's tensors bound as `t0`, `t1`, … and the offsets `off0…offg` of their elements laid
 * end to end: the bindings and uniforms every multi-tensor kernel over one tensor list takes.
 */
export function groupBindings(
  group: readonly { tensor: Tensor }[],
): { bound: Record<string, Tensor>; offsets: Record<string, number> } {
  return {
    bound: Object.fromEntries(group.map(({ tensor }, j) => [`t${j}`, tensor])),
    offsets: offsetsOf(group.map(({ tensor }) => tensor.size)),
  };
}
