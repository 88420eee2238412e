/**
 * In-place scaling of a gradient by a factor the host computed: the unscale step of dynamic
 * loss scaling (`torch.cuda.amp.GradScaler.unscale_`), with clipping folded in, so that one
 * pass over each gradient does both.
 *
 * Formula: `grad[i] ← factor · grad[i]`, with `factor = (1 / loss_scale) · min(1, max_norm /
 * (‖g‖ + 1e-6))` (the second factor only when clipping).
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `grad_scale` | grad `[n]` | grad, in place |
 *
 * See https://pytorch.org/docs/stable/amp.html#gradient-scaling.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

/** `grad ← factor · grad` for `n` elements, in place. */
export const gradScale = defineKernel({
  name: "grad_scale",
  bindings: { grad: "read_write" },
  uniforms: { n: "u32", factor: "f32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  grad[i] = u.factor * grad[i];
}`,
});

/** Reference: `factor · grad`, elementwise. */
export function gradScaleRef(grad: ArrayLike<number>, factor: number): Float64Array {
  return Float64Array.from(grad, (g) => factor * g);
}

/** Cost of scaling `n` elements in place (read and write). */
export function gradScaleCost({ n }: { n: number }): KernelCost {
  return { flops: n, bytes: 8 * n };
}
