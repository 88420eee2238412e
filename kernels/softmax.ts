/**
 * Softmax over the last axis, with the two additive terms of BERT/CA-MTL attention:
 *
 *   y[b, h, q, :] = softmax(x[b, h, q, :] + bias[b, q, :] + mask[b, :])
 *
 * x is `[B, NH, Tq, Tk]` (rows of N = Tk), `bias` `[B, Tq, Tk]` is CA-MTL's conditional attention
 * matrix shared by every head (docs/model.md §4.1), `mask` `[B, Tk]` is 0 for tokens and −10000 for
 * padding. Without bias and mask this is a plain row softmax of any `[R, N]`. Each row keeps a
 * running maximum and the sum of exp(v − max) rescaled whenever the maximum grows (the online
 * softmax of Milakov and Gimelshein, 2018), so ±80 logits and all-masked rows stay finite with
 * one read of the logits before the write pass. The reference is `torch.softmax`
 * (https://pytorch.org/docs/stable/generated/torch.nn.functional.softmax.html).
 *
 * Backward: dx = y ⊙ (dy − Σ_k y·dy), and dbias[b, q, k] = Σ_h dx[b, h, q, k].
 *
 * | kernel | bindings | writes | grid |
 * |---|---|---|---|
 * | `softmax_forward` | x, bias, mask → out | out [R, N] | one workgroup per row |
 * | `softmax_backward` | y, dout → dx | dx [R, N] | one workgroup per row |
 * | `softmax_bias_backward` | dx → dbias | dbias [B, Tq, Tk] = Σ over heads | 1-D over dbias |
| `softmax_forward_lanes`, `softmax_backward_lanes` | as above, vec4 | as above | one row per invocation |
 *
 * `HAS_BIAS` and `HAS_MASK` (0 or 1) switch the additive terms; when off, any f32 tensor may be
 * bound in their place. Outputs are overwritten. `WG` must be a power of two.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost, VEC4_READ, VEC4_WRITE } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import { ROW_OF, TREE_SUM } from "./_reduce_wgsl.ts";

/**
 * Forward. Uniforms: `rows` R = B·NH·Tq, `n` N = Tk, `nh` NH and `tq` Tq (used only to index
 * bias and mask; any values ≥ 1 otherwise).
 */
export const softmaxForward = defineKernel({
  name: "softmax_forward",
  bindings: { x: "read", bias: "read", mask: "read", out: "write" },
  uniforms: { rows: "u32", n: "u32", nh: "u32", tq: "u32" },
  overrides: { WG: 128, HAS_BIAS: 0, HAS_MASK: 0 },
  grid: ({ rows }) => grid1d(rows, 1),
  wgsl: /* wgsl */ `${ROW_OF}
// Below every finite logit, and far enough from -FLT_MAX that subtracting it stays finite.
const NEG_BIG = -1.0e38;

var<workgroup> red_m: array<f32, WG>;
var<workgroup> red_s: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) l: u32,
) {
  let row = row_of(wid, nwg);
  if (row >= u.rows) { return; }
  let base = row * u.n;
  let b = row / (u.nh * u.tq);
  let bias_base = (b * u.tq + row % u.tq) * u.n;
  let mask_base = b * u.n;
  var m = NEG_BIG;
  var s = 0.0;
  for (var j = l; j < u.n; j += WG) {
    var v = x[base + j];
    if (HAS_BIAS != 0u) { v += bias[bias_base + j]; }
    if (HAS_MASK != 0u) { v += mask[mask_base + j]; }
    if (v > m) {
      s = s * exp(m - v) + 1.0;
      m = v;
    } else {
      s += exp(v - m);
    }
  }
  red_m[l] = m;
  red_s[l] = s;
  workgroupBarrier();
  for (var st = WG / 2u; st > 0u; st >>= 1u) {
    if (l < st) {
      let m1 = red_m[l];
      let m2 = red_m[l + st];
      let mm = max(m1, m2);
      red_s[l] = red_s[l] * exp(m1 - mm) + red_s[l + st] * exp(m2 - mm);
      red_m[l] = mm;
    }
    workgroupBarrier();
  }
  let mx = red_m[0];
  let inv = 1.0 / red_s[0];
  for (var j = l; j < u.n; j += WG) {
    var v = x[base + j];
    if (HAS_BIAS != 0u) { v += bias[bias_base + j]; }
    if (HAS_MASK != 0u) { v += mask[mask_base + j]; }
    out[base + j] = exp(v - mx) * inv;
  }
}`,
});

/** Backward for x from the saved output `y`: `dx = y ⊙ (dout − Σ y·dout)` per row. */
export const softmaxBackward = defineKernel({
  name: "softmax_backward",
  bindings: { y: "read", dout: "read", dx: "write" },
  uniforms: { rows: "u32", n: "u32" },
  overrides: { WG: 128 },
  grid: ({ rows }) => grid1d(rows, 1),
  wgsl: /* wgsl */ `${ROW_OF}${TREE_SUM}
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) l: u32,
) {
  let row = row_of(wid, nwg);
  if (row >= u.rows) { return; }
  let base = row * u.n;
  var s = 0.0;
  for (var j = l; j < u.n; j += WG) { s += y[base + j] * dout[base + j]; }
  let dot_yd = tree_sum(l, s);
  for (var j = l; j < u.n; j += WG) {
    dx[base + j] = y[base + j] * (dout[base + j] - dot_yd);
  }
}`,
});

/**
 * Gradient of the shared bias: `dbias[b, q, k] = Σ_h dx[b, h, q, k]`. Uniforms: `n` = B·Tq·Tk,
 * `nh` NH, `per` = Tq·Tk.
 */
export const softmaxBiasBackward = defineKernel({
  name: "softmax_bias_backward",
  bindings: { dx: "read", dbias: "write" },
  uniforms: { n: "u32", nh: "u32", per: "u32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let first = (i / u.per) * u.nh * u.per + i % u.per;
  var s = 0.0;
  for (var h = 0u; h < u.nh; h++) { s += dx[first + h * u.per]; }
  dbias[i] = s;
}`,
});

/**
 * Forward with one row per invocation (`…_lanes`), for adapters that run invocations as SIMD
 * lanes on a CPU (lavapipe): no workgroup memory and no barriers, which there cost more than the
 * arithmetic (docs/performance.md has the measured gain). Three passes over the row (maximum,
 * sum, write) as vec4; needs N % 4 = 0. Same bindings and uniforms as `softmax_forward`; `WG` rows
 * per workgroup.
 */
export const softmaxForwardLanes = defineKernel({
  name: "softmax_forward_lanes",
  bindings: { x: VEC4_READ, bias: VEC4_READ, mask: VEC4_READ, out: VEC4_WRITE },
  uniforms: { rows: "u32", n: "u32", nh: "u32", tq: "u32" },
  overrides: { WG: 64, HAS_BIAS: 0, HAS_MASK: 0 },
  grid: ({ rows }, { WG }) => grid1d(rows, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
fn logits(base: u32, bias_base: u32, mask_base: u32, j: u32) -> vec4f {
  var v = x[base + j];
  if (HAS_BIAS != 0u) { v += bias[bias_base + j]; }
  if (HAS_MASK != 0u) { v += mask[mask_base + j]; }
  return v;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_index(gid, nwg);
  if (row >= u.rows) { return; }
  let n4 = u.n / 4u;
  let base = row * n4;
  let b = row / (u.nh * u.tq);
  let bias_base = (b * u.tq + row % u.tq) * n4;
  let mask_base = b * n4;
  var m4 = vec4f(-1.0e38);
  for (var j = 0u; j < n4; j++) { m4 = max(m4, logits(base, bias_base, mask_base, j)); }
  let m = max(max(m4.x, m4.y), max(m4.z, m4.w));
  var s4 = vec4f(0.0);
  for (var j = 0u; j < n4; j++) { s4 += exp(logits(base, bias_base, mask_base, j) - m); }
  let inv = 1.0 / (s4.x + s4.y + s4.z + s4.w);
  for (var j = 0u; j < n4; j++) {
    out[base + j] = exp(logits(base, bias_base, mask_base, j) - m) * inv;
  }
}`,
});

/** Backward with one row per invocation (see `softmax_forward_lanes`); needs N % 4 = 0. */
export const softmaxBackwardLanes = defineKernel({
  name: "softmax_backward_lanes",
  bindings: { y: VEC4_READ, dout: VEC4_READ, dx: VEC4_WRITE },
  uniforms: { rows: "u32", n: "u32" },
  overrides: { WG: 64 },
  grid: ({ rows }, { WG }) => grid1d(rows, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let row = flat_index(gid, nwg);
  if (row >= u.rows) { return; }
  let n4 = u.n / 4u;
  let base = row * n4;
  var s4 = vec4f(0.0);
  for (var j = 0u; j < n4; j++) { s4 += y[base + j] * dout[base + j]; }
  let dot_yd = s4.x + s4.y + s4.z + s4.w;
  for (var j = 0u; j < n4; j++) { dx[base + j] = y[base + j] * (dout[base + j] - dot_yd); }
}`,
});

// ---- float64 references -------------------------------------------------------------------

/** Dimensions of the references: x is `[B, NH, Tq, Tk]` (a plain `[R, N]` is B=R, NH=Tq=1). */
export interface SoftmaxDims {
  b: number;
  nh: number;
  tq: number;
  tk: number;
}

/** Reference forward: softmax of `x + bias + mask` over the last axis. */
export function softmaxForwardRef(
  { x, bias, mask }: { x: Float64Array; bias?: Float64Array; mask?: Float64Array },
  { b, nh, tq, tk }: SoftmaxDims,
): Float64Array {
  const out = new Float64Array(x.length);
  const v = new Float64Array(tk);
  for (let r = 0; r < b * nh * tq; r++) {
    const bi = Math.floor(r / (nh * tq)), q = r % tq;
    let m = -Infinity;
    for (let k = 0; k < tk; k++) {
      v[k] = x[r * tk + k] + (bias ? bias[(bi * tq + q) * tk + k] : 0) +
        (mask ? mask[bi * tk + k] : 0);
      m = Math.max(m, v[k]);
    }
    let s = 0;
    for (let k = 0; k < tk; k++) s += Math.exp(v[k] - m);
    for (let k = 0; k < tk; k++) out[r * tk + k] = Math.exp(v[k] - m) / s;
  }
  return out;
}

/** Reference backward from the output `y`: dx, and dbias summed over heads. */
export function softmaxBackwardRef(
  y: Float64Array,
  dout: Float64Array,
  { b, nh, tq, tk }: SoftmaxDims,
): { dx: Float64Array; dbias: Float64Array } {
  const dx = new Float64Array(y.length), dbias = new Float64Array(b * tq * tk);
  for (let r = 0; r < b * nh * tq; r++) {
    let s = 0;
    for (let k = 0; k < tk; k++) s += y[r * tk + k] * dout[r * tk + k];
    const bi = Math.floor(r / (nh * tq)), q = r % tq;
    for (let k = 0; k < tk; k++) {
      dx[r * tk + k] = y[r * tk + k] * (dout[r * tk + k] - s);
      dbias[(bi * tq + q) * tk + k] += dx[r * tk + k];
    }
  }
  return { dx, dbias };
}

// ---- costs -----------------------------------------------------------------------------------

/** Forward cost: reads x (and bias and mask once per row), writes out. */
export function softmaxForwardCost(
  { rows, n, biasRows = 0, maskRows = 0 }: {
    rows: number;
    n: number;
    biasRows?: number;
    maskRows?: number;
  },
): KernelCost {
  return { flops: 6 * rows * n, bytes: 4 * (2 * rows * n + (biasRows + maskRows) * n) };
}

/** Backward cost: reads y and dout, writes dx. */
export function softmaxBackwardCost({ rows, n }: { rows: number; n: number }): KernelCost {
  return { flops: 4 * rows * n, bytes: 12 * rows * n };
}

/** Bias-gradient cost: reads dx `[B, NH, Tq, Tk]`, writes `[B, Tq, Tk]`. */
export function softmaxBiasBackwardCost({ n, nh }: { n: number; nh: number }): KernelCost {
  return { flops: n * nh, bytes: 4 * n * (nh + 1) };
}
