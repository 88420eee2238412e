/**
 * Glue between kernels and what holds their data: record a dispatch of a `kernels/` kernel with
 * buffers bound by name. Ops, the optimizer and autograd's gradient sums all record through it.
 *
 * @module
 */

import type { BindingSpec, Kernel, Params, UniformType } from "../../kernels/kernel.ts";
import type { FAULT_BINDING } from "../../kernels/fault.ts";
import type { Gpu } from "./device.ts";

/** What a binding takes: a range of a buffer on a `Gpu`, as every `Tensor` is. */
export interface Bindable {
  /** The device the buffer belongs to. */
  readonly gpu: Gpu;
  /** The buffer and the bytes the binding spans. */
  readonly ref: { buffer: GPUBuffer; size: number };
}

/**
 * Records `kernel` with tensors bound by binding name; a kernel's `fault` binding is the
 * device's fault buffer, bound by the recorder (`faults.ts`).
 */
export function dispatch<
  U extends Record<string, UniformType>,
  B extends Record<string, BindingSpec>,
  O extends Record<string, number>,
>(
  kernel: Kernel<U, B, O>,
  tensors: { [K in Exclude<keyof B, typeof FAULT_BINDING>]: Bindable },
  params: Params<U>,
  overrides?: Partial<O>,
): void {
  const entries = Object.entries(tensors) as [string, Bindable][];
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
