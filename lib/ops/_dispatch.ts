/**
 * Glue between ops and kernels: allocate outputs on the inputs' device and record a dispatch
 * with tensors bound by name.
 *
 * @module
 */

import type { BindingSpec, Kernel, Params, UniformType } from "../../kernels/_kernel.ts";
import { type DType, Tensor } from "../autograd/tensor.ts";
import type { Gpu } from "../gpu/device.ts";
import type { FAULT_BINDING } from "../../kernels/_fault.ts";

/**
 * Records `kernel` with tensors bound by binding name; a kernel's `fault` binding is the
 * device's fault buffer, bound by the recorder (`lib/gpu/faults.ts`).
 */
export function dispatch<
  U extends Record<string, UniformType>,
  B extends Record<string, BindingSpec>,
  O extends Record<string, number>,
>(
  kernel: Kernel<U, B, O>,
  tensors: { [K in Exclude<keyof B, typeof FAULT_BINDING>]: Tensor },
  params: Params<U>,
  overrides?: Partial<O>,
): void {
  const entries = Object.entries(tensors) as [string, Tensor][];
  const first = entries[0][1];
  const refs: Record<string, { buffer: GPUBuffer; size: number }> = {};
  for (const [k, t] of entries) {
    if (t.gpu !== first.gpu) {
      throw new TypeError(`Cannot run "${kernel.name}": "${k}" lives on another device`);
    }
    refs[k] = t.ref;
  }
  first.gpu.recorder.dispatch(kernel, refs, params, overrides);
}

/**
 * Whether a row kernel over `t`'s rows of `rowLength` elements runs one row per invocation (the
 * `…_lanes` kernels): where the device prefers it (`Gpu.rowKernels`) and rows are whole vec4s.
 */
export function laneRows(t: Tensor, rowLength: number): boolean {
  return t.gpu.rowKernels === "lanes" && rowLength % 4 === 0;
}

/** An uninitialised temporary tensor (owned by the current scope). */
export function empty(gpu: Gpu, shape: readonly number[], dtype: DType = "f32"): Tensor {
  return new Tensor(gpu, shape, { dtype });
}
