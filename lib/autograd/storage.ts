/**
 * What a tensor's data lives in: a pool buffer that a tensor and its views share, with the count
 * of tensors holding it and a fill it may still owe. The fill lets `zeroGrad` zero a gradient
 * without a dispatch: the next backward writes the gradient over it, and only a buffer that is
 * used before being overwritten gets its fill dispatched.
 *
 * @module
 */

import { fill, fillVec4 } from "../../kernels/elementwise.ts";
import type { Gpu } from "../gpu/device.ts";
import { type Bindable, dispatch } from "../gpu/dispatch.ts";

/** A pool buffer shared by a tensor and its views; returned to the pool when the last goes. */
export interface Storage {
  buffer: GPUBuffer;
  /** Tensors holding this storage (a tensor and its views, or a gradient that took it in). */
  refs: number;
  /** A fill recorded but not dispatched yet: every element reads as this value. */
  fill?: number;
}

/** Drops one tensor's hold on `storage`; the last one returns the buffer to the pool. */
export function releaseStorage(gpu: Gpu, storage: Storage): void {
  if (--storage.refs === 0) gpu.pool.release(storage.buffer);
}

/**
 * What frees a loose tensor's storage once the collector finds the tensor unreachable; it
 * holds the storage, never the tensor, and drops that tensor's hold once.
 */
export function storageFreer(gpu: Gpu, storage: Storage): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    releaseStorage(gpu, storage);
  };
}

/** One `fill` dispatch setting the `size` f32 elements of `t` to `value` (vec4s when it can). */
export function fillNow(t: Bindable & { readonly size: number }, value: number): void {
  if (t.size % 4 === 0) dispatch(fillVec4, { out: t }, { n: t.size / 4, value });
  else dispatch(fill, { out: t }, { n: t.size, value });
}
