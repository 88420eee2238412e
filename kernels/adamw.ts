/**
 * The AdamW update of Hugging Face transformers 2.11 (`transformers.optimization.AdamW`), fused
 * into one in-place kernel per parameter: bias correction folded into the step size, eps added
 * to √v before it, and weight decay decoupled and applied to the already-updated parameter.
 *
 * Per element, at step t (1-based) with learning rate lr and weight decay wd:
 *   m ← β1·m + (1 − β1)·g;  v ← β2·v + (1 − β2)·g²;
 *   p ← p − step_size · m / (√v + eps),  step_size = lr · √(1 − β2^t) / (1 − β1^t);
 *   p ← p − lr·wd · p  (only when wd > 0; a no-op otherwise).
 * The host computes `step_size`, `1 − β1`, `1 − β2` and `lr·wd` in float64 and passes them as
 * uniforms, as PyTorch passes Python floats to its in-place ops.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `adamw_update`, `adamw_update_vec4` | param, grad, m, v, norm | param, m, v in place |
 *
 * With `clip_on`, the gradient is first multiplied by `clip_grad_norm_`'s factor
 * `min(1, max_norm / (norm[0] + 1e-6))`, the very product `grad_clip_scale` would have stored
 * (`kernels/global_norm.ts`): `clipGradNorm` leaves large gradients' scaling to the update, which
 * then reads and writes each gradient once instead of twice.
 *
 * See https://github.com/huggingface/transformers/blob/v2.11.0/src/transformers/optimization.py.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import { CLIP_COEF } from "./global_norm.ts";

/**
 * One AdamW step, in place, over `n` f32 elements (`adamw_update`) or, for parameters whose size
 * is a multiple of 4, `n` vec4s (`adamw_update_vec4`: the same arithmetic per component, a
 * quarter of the invocations, which is what a CPU adapter pays for).
 */
function adamwKernel(width: 1 | 4) {
  const type = width === 4 ? "vec4<f32>" : "f32";
  const read = { access: "read", type } as const, rw = { access: "read_write", type } as const;
  return defineKernel({
    name: width === 4 ? "adamw_update_vec4" : "adamw_update",
    bindings: { param: rw, grad: read, m: rw, v: rw, norm: "read" },
    uniforms: {
      n: "u32",
      clip_on: "u32",
      max_norm: "f32",
      beta1: "f32",
      beta2: "f32",
      one_minus_beta1: "f32",
      one_minus_beta2: "f32",
      eps: "f32",
      step_size: "f32",
      decay: "f32",
    },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  var g = grad[i];
  if (u.clip_on != 0u) { g = ${CLIP_COEF} * g; }
  let m1 = u.beta1 * m[i] + u.one_minus_beta1 * g;
  let v1 = u.beta2 * v[i] + u.one_minus_beta2 * g * g;
  m[i] = m1;
  v[i] = v1;
  let p1 = param[i] - u.step_size * m1 / (sqrt(v1) + u.eps);
  param[i] = p1 - u.decay * p1;
}`,
  });
}

/** One AdamW step for `n` elements of a parameter, its gradient and moments, in place. */
export const adamwUpdate = adamwKernel(1);
/** `adamw_update` over `n` vec4s (parameters whose size is a multiple of 4). */
export const adamwUpdateVec4 = adamwKernel(4);

/** Hyper-parameters of one AdamW step. */
export interface AdamWStep {
  /** Learning rate of this step. */
  lr: number;
  /** Decay rate of the first moment. */
  beta1: number;
  /** Decay rate of the second moment. */
  beta2: number;
  /** Added to √v. */
  eps: number;
  /** Decoupled weight decay; 0 turns it off. */
  weightDecay: number;
  /** 1-based step count of this parameter. */
  step: number;
}

/** The uniforms of `adamw_update` for one step, computed in float64, without a clip. */
export function adamwParams(n: number, s: AdamWStep): {
  n: number;
  clip_on: number;
  max_norm: number;
  beta1: number;
  beta2: number;
  one_minus_beta1: number;
  one_minus_beta2: number;
  eps: number;
  step_size: number;
  decay: number;
} {
  const stepSize = s.lr * Math.sqrt(1 - s.beta2 ** s.step) / (1 - s.beta1 ** s.step);
  return {
    n,
    clip_on: 0,
    max_norm: 0,
    beta1: s.beta1,
    beta2: s.beta2,
    one_minus_beta1: 1 - s.beta1,
    one_minus_beta2: 1 - s.beta2,
    eps: s.eps,
    step_size: stepSize,
    decay: s.weightDecay > 0 ? s.lr * s.weightDecay : 0,
  };
}

/** Reference: one AdamW step in float64, updating `param`, `m` and `v` in place. */
export function adamwRef(
  param: Float64Array,
  grad: Float64Array,
  m: Float64Array,
  v: Float64Array,
  s: AdamWStep,
): void {
  const stepSize = s.lr * Math.sqrt(1 - s.beta2 ** s.step) / (1 - s.beta1 ** s.step);
  for (let i = 0; i < param.length; i++) {
    const g = grad[i];
    m[i] = s.beta1 * m[i] + (1 - s.beta1) * g;
    v[i] = s.beta2 * v[i] + (1 - s.beta2) * g * g;
    param[i] -= stepSize * m[i] / (Math.sqrt(v[i]) + s.eps);
    if (s.weightDecay > 0) param[i] -= s.lr * s.weightDecay * param[i];
  }
}

/** Cost of one update over `n` elements: read p, g, m, v; write p, m, v. */
export function adamwCost({ n }: { n: number }): KernelCost {
  return { flops: 14 * n, bytes: 28 * n };
}
