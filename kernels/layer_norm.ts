/**
 * Layer normalisation over the last axis, with a plain `[C]` gain or a per-example `[B, C]`
 * gain (CA-MTL's conditional layer norm, docs/model.md §5):
 *
 *   y[r, j] = (x[r, j] − μ_r) · ρ_r · g[⌊r / T⌋, j] + b[j],  ρ_r = 1 / √(σ²_r + eps)
 *
 * where row r of x `[R, C]` (R = B·T) has mean μ_r and biased variance σ²_r (PyTorch's
 * `LayerNorm`: https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html). A `[C]` gain
 * is the case T = R. The variance is two-pass (mean first, then Σ(x − μ)²) in f32, so rows
 * with a large mean and a small spread keep their precision and eps = 1e-12 (BERT) is safe; the
 * second pass also sums x − μ to correct μ's rounding error (the corrected two-pass algorithm of
 * Chan, Golub and LeVeque, 1983).
 *
 * Backward (llm.c `layernorm_backward`), with x̂ = (x − μ)·ρ and ĝ = g ⊙ dy:
 *
 *   dx = ρ · (ĝ − mean_j(ĝ) − x̂ · mean_j(ĝ ⊙ x̂)),  dg = Σ_rows dy ⊙ x̂,  db = Σ_rows dy
 *
 * | kernel | bindings | writes | grid |
 * |---|---|---|---|
 * | `layer_norm_forward` | x, gain, bias → out, mean, rstd | out [R, C], mean [R], rstd [R] | one workgroup per row |
 * | `layer_norm_backward` | x, gain, mean, rstd, dout → dx | dx [R, C] | one workgroup per row |
 * | `layer_norm_param_backward` | x, mean, rstd, dout → dgain, dbias | per row group: Σ dy·x̂, Σ dy [G, C] | (C / WG) × G |
| `layer_norm_forward_lanes`, `layer_norm_backward_lanes` | as the first two, vec4 | as above | one row per invocation |
 *
 * All kernels overwrite their outputs. `WG` must be a power of two (tree reduction).
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost, VEC4_READ, VEC4_WRITE } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import { ROW_OF, TREE_SUM2 } from "./_reduce_wgsl.ts";

/**
 * Forward: `out = (x − μ)·ρ·gain[⌊r / t⌋] + bias`, also writing `mean` and `rstd` (ρ) per row for
 * the backward. Uniforms: `rows` R, `c` C, `t` rows per gain row (R for a `[C]` gain), `eps`.
 */
export const layerNormForward = defineKernel({
  name: "layer_norm_forward",
  bindings: {
    x: "read",
    gain: "read",
    bias: "read",
    out: "write",
    mean: "write",
    rstd: "write",
  },
  uniforms: { rows: "u32", c: "u32", t: "u32", eps: "f32" },
  overrides: { WG: 256 },
  grid: ({ rows }) => grid1d(rows, 1),
  wgsl: /* wgsl */ `${TREE_SUM2}${ROW_OF}
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) l: u32,
) {
  let row = row_of(wid, nwg);
  if (row >= u.rows) { return; }
  let base = row * u.c;
  let inv_c = 1.0 / f32(u.c);
  var s = 0.0;
  for (var j = l; j < u.c; j += WG) { s += x[base + j]; }
  let mu0 = tree_sum2(l, vec2f(s, 0.0)).x * inv_c;
  // Corrected two-pass: Σd corrects the rounding error of mu0 to first order.
  var d1 = 0.0;
  var d2 = 0.0;
  for (var j = l; j < u.c; j += WG) {
    let d = x[base + j] - mu0;
    d1 += d;
    d2 += d * d;
  }
  let sums = tree_sum2(l, vec2f(d1, d2)) * inv_c;
  let mu = mu0 + sums.x;
  let rs = inverseSqrt(max(sums.y - sums.x * sums.x, 0.0) + u.eps);
  let g = (row / u.t) * u.c;
  for (var j = l; j < u.c; j += WG) {
    out[base + j] = (x[base + j] - mu) * rs * gain[g + j] + bias[j];
  }
  if (l == 0u) {
    mean[row] = mu;
    rstd[row] = rs;
  }
}`,
});

/** Backward for x: `dx = ρ·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))` with ĝ = gain ⊙ dout. */
export const layerNormBackward = defineKernel({
  name: "layer_norm_backward",
  bindings: {
    x: "read",
    gain: "read",
    mean: "read",
    rstd: "read",
    dout: "read",
    dx: "write",
  },
  uniforms: { rows: "u32", c: "u32", t: "u32" },
  overrides: { WG: 256 },
  grid: ({ rows }) => grid1d(rows, 1),
  wgsl: /* wgsl */ `${TREE_SUM2}${ROW_OF}
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) l: u32,
) {
  let row = row_of(wid, nwg);
  if (row >= u.rows) { return; }
  let base = row * u.c;
  let g = (row / u.t) * u.c;
  let mu = mean[row];
  let rs = rstd[row];
  let inv_c = 1.0 / f32(u.c);
  var s1 = 0.0;
  var s2 = 0.0;
  for (var j = l; j < u.c; j += WG) {
    let gd = gain[g + j] * dout[base + j];
    s1 += gd;
    s2 += gd * (x[base + j] - mu) * rs;
  }
  let m = tree_sum2(l, vec2f(s1, s2)) * inv_c;
  for (var j = l; j < u.c; j += WG) {
    let gd = gain[g + j] * dout[base + j];
    let xh = (x[base + j] - mu) * rs;
    dx[base + j] = rs * (gd - m.x - xh * m.y);
  }
}`,
});

/**
 * Backward for gain and bias, per group of `per_group` consecutive rows:
 * `dgain[k, j] = Σ dout·x̂`, `dbias[k, j] = Σ dout` over the rows of group k. With groups of T
 * rows, `dgain` is already the gradient of a `[B, C]` gain; otherwise the caller sums the groups.
 */
export const layerNormParamBackward = defineKernel({
  name: "layer_norm_param_backward",
  bindings: {
    x: "read",
    mean: "read",
    rstd: "read",
    dout: "read",
    dgain: "write",
    dbias: "write",
  },
  uniforms: { rows: "u32", c: "u32", per_group: "u32", groups: "u32" },
  overrides: { WG: 64 },
  grid: ({ c, groups }, { WG }) => [Math.max(1, Math.ceil(c / WG)), Math.max(1, groups), 1],
  wgsl: /* wgsl */ `
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  let k = gid.y;
  if (j >= u.c || k >= u.groups) { return; }
  let first = k * u.per_group;
  let last = min(first + u.per_group, u.rows);
  var sg = 0.0;
  var sb = 0.0;
  for (var r = first; r < last; r++) {
    let d = dout[r * u.c + j];
    sg += d * (x[r * u.c + j] - mean[r]) * rstd[r];
    sb += d;
  }
  dgain[k * u.c + j] = sg;
  dbias[k * u.c + j] = sb;
}`,
});

// One row per invocation, as vec4 (the `…_lanes` kernels): for adapters that run invocations as
// SIMD lanes on a CPU, where workgroup barriers cost more than the arithmetic.
const SUM4 = /* wgsl */ `
fn sum4(v: vec4f) -> f32 { return v.x + v.y + v.z + v.w; }
`;

/**
 * `layer_norm_forward` with one row per invocation (`WG` rows per workgroup) and no barriers,
 * for lavapipe; the same bindings, uniforms and two-pass variance. Needs C % 4 = 0.
 */
export const layerNormForwardLanes = defineKernel({
  name: "layer_norm_forward_lanes",
  bindings: {
    x: VEC4_READ,
    gain: VEC4_READ,
    bias: VEC4_READ,
    out: VEC4_WRITE,
    mean: "write",
    rstd: "write",
  },
  uniforms: { rows: "u32", c: "u32", t: "u32", eps: "f32" },
  overrides: { WG: 64 },
  grid: ({ rows }, { WG }) => grid1d(rows, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}${SUM4}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_index(gid, nwg);
  if (row >= u.rows) { return; }
  let c4 = u.c / 4u;
  let base = row * c4;
  let inv_c = 1.0 / f32(u.c);
  var s = vec4f(0.0);
  for (var j = 0u; j < c4; j++) { s += x[base + j]; }
  let mu0 = sum4(s) * inv_c;
  var d1 = vec4f(0.0);
  var d2 = vec4f(0.0);
  for (var j = 0u; j < c4; j++) {
    let d = x[base + j] - mu0;
    d1 += d;
    d2 += d * d;
  }
  let e1 = sum4(d1) * inv_c;
  let mu = mu0 + e1;
  let rs = inverseSqrt(max(sum4(d2) * inv_c - e1 * e1, 0.0) + u.eps);
  let g = (row / u.t) * c4;
  for (var j = 0u; j < c4; j++) {
    out[base + j] = (x[base + j] - mu) * rs * gain[g + j] + bias[j];
  }
  mean[row] = mu;
  rstd[row] = rs;
}`,
});

/** `layer_norm_backward` with one row per invocation, for lavapipe. Needs C % 4 = 0. */
export const layerNormBackwardLanes = defineKernel({
  name: "layer_norm_backward_lanes",
  bindings: {
    x: VEC4_READ,
    gain: VEC4_READ,
    mean: "read",
    rstd: "read",
    dout: VEC4_READ,
    dx: VEC4_WRITE,
  },
  uniforms: { rows: "u32", c: "u32", t: "u32" },
  overrides: { WG: 64 },
  grid: ({ rows }, { WG }) => grid1d(rows, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}${SUM4}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_index(gid, nwg);
  if (row >= u.rows) { return; }
  let c4 = u.c / 4u;
  let base = row * c4;
  let g = (row / u.t) * c4;
  let mu = mean[row];
  let rs = rstd[row];
  let inv_c = 1.0 / f32(u.c);
  var s1 = vec4f(0.0);
  var s2 = vec4f(0.0);
  for (var j = 0u; j < c4; j++) {
    let gd = gain[g + j] * dout[base + j];
    s1 += gd;
    s2 += gd * (x[base + j] - mu) * rs;
  }
  let m1 = sum4(s1) * inv_c;
  let m2 = sum4(s2) * inv_c;
  for (var j = 0u; j < c4; j++) {
    let gd = gain[g + j] * dout[base + j];
    dx[base + j] = rs * (gd - m1 - (x[base + j] - mu) * rs * m2);
  }
}`,
});

export { rowWorkgroupSize } from "./kernel.ts";

// ---- float64 references -------------------------------------------------------------------

/** Inputs of the layer norm references: x `[R, C]`, gain `[G, C]` (G divides R), bias `[C]`. */
export interface LayerNormRefInputs {
  /** `[R, C]` row-major. */
  x: Float64Array;
  /** `[G, C]`: one gain row per block of R / G consecutive rows. */
  gain: Float64Array;
  /** `[C]`. */
  bias: Float64Array;
}

/**
 * Float64 reference of `layerNorm`'s forward over rows of `c` values:
 * `out = (x − mean) · rstd · gain + bias` with `rstd = 1 / sqrt(var + eps)` (biased variance).
 * The gain has G = `gain.length / c` rows; row r of x uses gain row ⌊r / (R / G)⌋. Returns the
 * output `[R, C]` and each row's mean and rstd `[R]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { layerNormForwardRef } from "./layer_norm.ts";
 * const { out, mean } = layerNormForwardRef(
 *   { x: Float64Array.of(1, 3), gain: Float64Array.of(1, 1), bias: Float64Array.of(0, 0.5) },
 *   { c: 2, eps: 0 },
 * );
 * assert.deepEqual([...out], [-1, 1.5]);
 * assert.deepEqual([...mean], [2]);
 * ```
 */
export function layerNormForwardRef(
  { x, gain, bias }: LayerNormRefInputs,
  { c, eps }: { c: number; eps: number },
): { out: Float64Array; mean: Float64Array; rstd: Float64Array } {
  const rows = x.length / c, t = rows / (gain.length / c);
  const out = new Float64Array(x.length), mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let j = 0; j < c; j++) s += x[r * c + j];
    const mu = s / c;
    let q = 0;
    for (let j = 0; j < c; j++) q += (x[r * c + j] - mu) ** 2;
    const rs = 1 / Math.sqrt(q / c + eps);
    const g = Math.floor(r / t) * c;
    for (let j = 0; j < c; j++) out[r * c + j] = (x[r * c + j] - mu) * rs * gain[g + j] + bias[j];
    mean[r] = mu;
    rstd[r] = rs;
  }
  return { out, mean, rstd };
}

/** Reference backward: gradients of x, gain (same shape as gain) and bias from `dout`. */
export function layerNormBackwardRef(
  { x, gain }: Omit<LayerNormRefInputs, "bias">,
  dout: Float64Array,
  { c, eps }: { c: number; eps: number },
): { dx: Float64Array; dgain: Float64Array; dbias: Float64Array } {
  const rows = x.length / c, t = rows / (gain.length / c);
  const { mean, rstd } = layerNormForwardRef({ x, gain, bias: new Float64Array(c) }, { c, eps });
  const dx = new Float64Array(x.length), dgain = new Float64Array(gain.length);
  const dbias = new Float64Array(c);
  for (let r = 0; r < rows; r++) {
    const g = Math.floor(r / t) * c;
    let m1 = 0, m2 = 0;
    for (let j = 0; j < c; j++) {
      const xh = (x[r * c + j] - mean[r]) * rstd[r];
      const gd = gain[g + j] * dout[r * c + j];
      m1 += gd / c;
      m2 += gd * xh / c;
      dgain[g + j] += dout[r * c + j] * xh;
      dbias[j] += dout[r * c + j];
    }
    for (let j = 0; j < c; j++) {
      const xh = (x[r * c + j] - mean[r]) * rstd[r];
      dx[r * c + j] = rstd[r] * (gain[g + j] * dout[r * c + j] - m1 - xh * m2);
    }
  }
  return { dx, dgain, dbias };
}

// ---- costs -----------------------------------------------------------------------------------

/** Forward cost: reads x (once, ideally) and the parameters, writes out, mean and rstd. */
export function layerNormForwardCost({ rows, c }: { rows: number; c: number }): KernelCost {
  return { flops: 8 * rows * c, bytes: 4 * (2 * rows * c + 2 * c + 2 * rows) };
}

/** Backward cost for x: reads x and dout, writes dx. */
export function layerNormBackwardCost({ rows, c }: { rows: number; c: number }): KernelCost {
  return { flops: 11 * rows * c, bytes: 4 * (3 * rows * c + c + 2 * rows) };
}

/** Parameter-gradient cost: reads x and dout, writes one `[C]` pair per row group. */
export function layerNormParamBackwardCost(
  { rows, c, groups }: { rows: number; c: number; groups: number },
): KernelCost {
  return { flops: 5 * rows * c, bytes: 4 * (2 * rows * c + 2 * rows + 2 * groups * c) };
}
