/**
 * Autocast: the mixed-precision mode of `--fp16` (apex AMP O1, `torch.autocast`). While it is
 * on for a device, `linear` and `matmul` round their operands to f16, save the f16 copies for
 * backward, and run the f16 matmul kernels (f16 loads, f32 accumulation, f32 results); their
 * backward rounds the incoming gradient to f16 the same way. Every other op — softmax, layer
 * norm, GELU, losses, the optimizer — keeps computing in f32, and parameters stay f32 (the
 * "master weights").
 *
 * The mode belongs to one `Gpu` (like scopes), so tests on one device do not see another's.
 *
 * @module
 */

import type { Gpu } from "../gpu/device.ts";

const active = new WeakMap<Gpu, number>();

/**
 * Throws unless `gpu` can run f16 kernels (`shader-f16`); `action` completes "Cannot …".
 *
 * @throws {Error} naming the adapter and the missing feature.
 */
export function assertF16(gpu: Gpu, action: string): void {
  if (!gpu.hasF16) {
    throw new Error(
      `Cannot ${action}: adapter "${gpu.adapter.description}" lacks the "shader-f16" feature`,
    );
  }
}

/** True while an autocast region is open on `gpu`. */
export function isAutocast(gpu: Gpu): boolean {
  return (active.get(gpu) ?? 0) > 0;
}

/**
 * Runs `fn` with autocast on for `gpu` (when `enabled`, default true) and restores the previous
 * mode afterwards, even if `fn` throws.
 *
 * @throws {Error} when enabled on a device without `shader-f16`.
 * @example A mixed-precision forward
 * ```ts ignore
 * const loss = await withAutocast(gpu, () => model.forward(batch).loss);
 * ```
 */
export async function withAutocast<R>(
  gpu: Gpu,
  fn: () => R | Promise<R>,
  enabled = true,
): Promise<R> {
  if (!enabled) return await fn();
  assertF16(gpu, "enable autocast");
  active.set(gpu, (active.get(gpu) ?? 0) + 1);
  try {
    return await fn();
  } finally {
    active.set(gpu, active.get(gpu)! - 1);
  }
}
