/**
 * Reading several tensors back with one wait.
 *
 * @module
 */

import { assertDType } from "./checks.ts";
import type { Tensor } from "./tensor.ts";

/**
 * Reads several f32 tensors of one device back together: one submit and one wait instead of one
 * per tensor (each wait has a fixed latency).
 *
 * @throws {TypeError} when a tensor is not f32 or they live on different devices.
 * @example Loss and gradient norm of a step, with one wait
 * ```ts ignore
 * const [loss, norm] = await readFloats([out.loss!, clipGradNorm(model, 1.0)]);
 * ```
 */
export async function readFloats(tensors: readonly Tensor[]): Promise<Float32Array[]> {
  if (tensors.length === 0) return [];
  const gpu = tensors[0].gpu;
  for (const t of tensors) {
    assertDType(t, "f32", "read");
    if (t.gpu !== gpu) throw new TypeError("Cannot read tensors of different devices together");
  }
  const parts = await gpu.recorder.readMany(
    tensors.map((t) => ({ buffer: t.buffer, bytes: t.byteLength })),
  );
  return parts.map((b) => new Float32Array(b));
}
