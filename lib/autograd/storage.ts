/**
 * What a tensor's data lives in: a pool buffer that a tensor and its views share, with the count
 * of tensors holding it and a fill or a clip it may still owe. The fill lets `zeroGrad` zero a
 * gradient without a dispatch: the next backward writes the gradient over it, and only a buffer
 * that is used before being overwritten gets its fill dispatched. The clip lets `clipGradNorm`
 * leave the scaling of a large gradient to `AdamW`, which multiplies as it reads it.
 *
 * @module
 */

import { fill, fillVec4 } from "../../kernels/elementwise.ts";
import { gradClipScale, gradClipScaleVec4 } from "../../kernels/global_norm.ts";
import type { Gpu } from "../gpu/device.ts";
import { type Bindable, dispatch } from "../gpu/dispatch.ts";

/** A pool buffer shared by a tensor and its views; returned to the pool when the last goes. */
export interface Storage {
  buffer: GPUBuffer;
  /** Tensors holding this storage (a tensor and its views, or a gradient that took it in). */
  refs: number;
  /** A fill recorded but not dispatched yet: every element reads as this value. */
  fill?: number;
  /** A clip recorded but not dispatched yet (never together with a fill). */
  clip?: PendingClip;
}

/**
 * A gradient clip owed: every element is to be multiplied by `min(1, maxNorm / (norm + 1e-6))`
 * (`clip_grad_norm_`'s factor), with `norm` a `[1]` tensor on the GPU that the record holds (a
 * persistent view, disposed once the clip is applied or dropped).
 */
export interface PendingClip {
  norm: Bindable & { dispose(): void };
  maxNorm: number;
}

/** Drops one tensor's hold on `storage`; the last one returns the buffer to the pool. */
export function releaseStorage(gpu: Gpu, storage: Storage): void {
  if (--storage.refs > 0) return;
  dropClip(storage);
  gpu.pool.release(storage.buffer);
}

/** Forgets a pending clip (its data is about to be overwritten or zeroed). */
function dropClip(storage: Storage): void {
  storage.clip?.norm.dispose();
  storage.clip = undefined;
}

/** Forgets whatever `storage` still owes: its data is about to be overwritten. */
export function dropPending(storage: Storage): void {
  storage.fill = undefined;
  dropClip(storage);
}

/**
 * Dispatches what `storage` still owes `t` (its fill, or its clip), clearing it first; nothing
 * when it owes nothing.
 */
export function settle(t: Bindable & { readonly size: number }, storage: Storage): void {
  const { fill: value, clip } = storage;
  storage.fill = storage.clip = undefined; // first: the dispatch binds t, which settles again
  if (value !== undefined) {
    clip?.norm.dispose();
    fillNow(t, value);
  } else if (clip) {
    const vec4 = t.size % 4 === 0;
    dispatch(vec4 ? gradClipScaleVec4 : gradClipScale, { norm: clip.norm, grad: t }, {
      n: vec4 ? t.size / 4 : t.size,
      max_norm: clip.maxNorm,
    });
    clip.norm.dispose();
  }
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
