/**
 * The global L2 norm of many tensors and gradient clipping by it (PyTorch
 * `clip_grad_norm_`), without reading the norm back to the CPU: the norm is summed on the GPU
 * with `sum_partial`/`sum_final` of `kernels/reduce.ts` (squares, one partial range per
 * tensor, then a square root), and the clip kernel reads the norm from its buffer.
 *
 * Formulas: ‖g‖ = √(Σ_tensors Σ_i g_i²); coef = min(1, max_norm / (‖g‖ + 1e-6)); g ← coef · g.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `grad_clip_scale`, `grad_clip_scale_vec4` | norm, grad | grad ← min(1, max_norm / (norm + 1e-6)) · grad, in place |
 *
 * See https://pytorch.org/docs/stable/generated/torch.nn.utils.clip_grad_norm_.html.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

/** PyTorch's guard against division by a zero norm. */
export const CLIP_EPS = 1e-6;

/**
 * The clip factor as a WGSL expression of `norm[0]` and the uniform `max_norm`, shared by every
 * kernel that clips (here, `scale_clip_multi`, `adamw_update`), so that they all multiply by the
 * very same f32 value.
 */
export const CLIP_COEF = `min(1.0, u.max_norm / (norm[0] + ${CLIP_EPS}))`;

/**
 * Scales `grad` in place by `min(1, max_norm / (norm[0] + 1e-6))`: `n` f32 elements, or `n`
 * vec4s (`grad_clip_scale_vec4`, for sizes that are multiples of 4).
 */
function gradClipKernel(width: 1 | 4) {
  return defineKernel({
    name: width === 4 ? "grad_clip_scale_vec4" : "grad_clip_scale",
    bindings: {
      norm: "read",
      grad: { access: "read_write", type: width === 4 ? "vec4<f32>" : "f32" },
    },
    uniforms: { n: "u32", max_norm: "f32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let coef = ${CLIP_COEF};
  grad[i] = coef * grad[i];
}`,
  });
}

/** Scales `n` gradient elements in place by the clip coefficient of `norm[0]`. */
export const gradClipScale = gradClipKernel(1);
/** `grad_clip_scale` over `n` vec4s. */
export const gradClipScaleVec4 = gradClipKernel(4);

/** Reference: the L2 norm over every element of every array. */
export function globalNormRef(arrays: ArrayLike<number>[]): number {
  let s = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** Reference: the factor `clip_grad_norm_` multiplies every gradient by. */
export function clipCoefRef(norm: number, maxNorm: number): number {
  return Math.min(1, maxNorm / (norm + CLIP_EPS));
}

/** Cost of the norm over `n` elements in total (read once, square and add). */
export function globalNormCost({ n }: { n: number }): KernelCost {
  return { flops: 2 * n, bytes: 4 * n };
}

/** Cost of clipping `n` gradient elements in place (read and write). */
export function gradClipCost({ n }: { n: number }): KernelCost {
  return { flops: n, bytes: 8 * n };
}
