/**
 * What the memory benchmarks share: splitting a training step's peak GPU bytes into parameters,
 * gradients, AdamW moments, other resident tensors and the step's activations and temporaries,
 * and printing byte counts. Byte counts are the buffer pool's size classes (what the device
 * holds), not the tensors' exact sizes.
 *
 * @module
 */

import { bucketSize } from "../lib/gpu/buffer_pool.ts";
import type { Module } from "../lib/nn/module.ts";

/** One step's peak live bytes, split by owner. */
export interface MemoryBreakdown {
  /** Every parameter of the model, trainable or frozen. */
  parameters: number;
  /** Gradient buffers, kept between steps (zeroed, not freed). */
  gradients: number;
  /**
   * AdamW's m and v, counted as two buffers of each updated parameter's size class (the pool
   * may have handed out larger free buffers; the difference lands in `otherResident`).
   */
  moments: number;
  /** Live bytes between steps not counted above (the trainer's loss sum, inputs, …). */
  otherResident: number;
  /** What the step itself adds on top of the resident bytes: activations and temporaries. */
  activations: number;
  /** Peak live bytes of the step. */
  peak: number;
}

/**
 * Splits a step's `peak` live bytes for `model` after at least one optimizer step;
 * `resident` is the pool's live bytes between steps. AdamW (`lib/optim/adamw.ts`) allocates m
 * and v with the parameter's shape at its first update, so each moment has the parameter's
 * size class.
 */
export function breakdown(
  model: Module,
  { peak, resident }: { peak: number; resident: number },
): MemoryBreakdown {
  let parameters = 0, gradients = 0, moments = 0;
  for (const p of model.parameters()) {
    parameters += p.value.buffer.size;
    const grad = p.value.grad;
    if (grad) {
      gradients += grad.buffer.size;
      moments += 2 * bucketSize(4 * p.size);
    }
  }
  return {
    parameters,
    gradients,
    moments,
    otherResident: resident - parameters - gradients - moments,
    activations: peak - resident,
    peak,
  };
}

/** `bytes` as exact bytes and MiB: `14598400 B (13.9 MiB)`. */
export function formatBytes(bytes: number): string {
  return `${bytes} B (${(bytes / 2 ** 20).toFixed(1)} MiB)`;
}

/** One line per part of `b`, for the benchmarks' text output. */
export function breakdownLines(b: MemoryBreakdown): string[] {
  const row = (label: string, bytes: number) =>
    `  ${label.padEnd(34)} ${formatBytes(bytes).padStart(28)}`;
  return [
    row("parameters", b.parameters),
    row("gradients", b.gradients),
    row("AdamW moments (m, v)", b.moments),
    row("other resident", b.otherResident),
    row("activations and temporaries", b.activations),
    row("peak live bytes of the step", b.peak),
  ];
}
