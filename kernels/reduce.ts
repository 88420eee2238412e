/**
 * Sum reductions: over all elements (two passes: per-workgroup partial sums, then one
 * workgroup sums the partials), over one axis of `[O, R, I]` (the shape viewed around the
 * reduced axis), and the broadcast that is their backward. Every sum runs in a fixed order
 * (strided per-invocation loops, then a workgroup tree), so results are deterministic.
 *
 * Formulas: `sum = s · Σ_i x_i` (or `s · Σ_i x_i²`, optionally square-rooted: the global
 * norm); `out[o, i] = s · Σ_r x[o, r, i]`; backward `dx[o, r, i] = s · dout[o, i]`.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `sum_partial`, `sum_partial_vec4` | inp → partial | partial[base + g] = Σ over workgroup g's share of inp (or inp²) |
 * | `sum_final` | partial → out | out[0] = s · Σ partial[0..count) (sqrt when `root`) |
 * | `sum_axis_rows` | inp → out | one workgroup per output `[o, i]` (tree over r) |
 * | `sum_axis_cols` | inp → out | one invocation per output `[o, i]` (loop over r) |
 * | `broadcast_axis` | dout → out | out[o, r, i] = s · dout[o, i] |
 *
 * See https://pytorch.org/docs/stable/generated/torch.sum.html.
 *
 * @module
 */

import { ceilDiv, defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import { ROW_OF, TREE_SUM } from "./_reduce_wgsl.ts";

/** The most partial sums `sum_partial` writes for one input. */
export const MAX_PARTIALS = 1024;
/** Inputs up to this size are summed by `sum_final` alone, without a partial pass. */
export const SINGLE_PASS_MAX = 16384;

/**
 * Workgroup size for kernels that reduce one row of `n` values per workgroup: 32 up to 1024
 * values (a warp per row on GPUs, and fewer idle invocations on CPU adapters), doubling up to
 * 256 for longer rows, so that each invocation sums about 32 values before the tree.
 */
export function rowReduceWorkgroupSize(n: number): number {
  let wg = 32;
  while (wg < 256 && wg * 32 < n) wg *= 2;
  return wg;
}

/** Workgroups (= partial sums) that `sum_partial` uses for `n` elements. */
export function sumGroups(n: number, wg = 256): number {
  return Math.max(1, Math.min(ceilDiv(n, wg * 4), MAX_PARTIALS));
}

/**
 * Per-workgroup partial sums of `inp` (or of its squares when `square` is 1): `n` f32 values
 * (`sum_partial`), or `n` vec4s whose components are summed too (`sum_partial_vec4`, for sizes
 * that are multiples of 4; launch it with {@linkcode sumGroupsVec4} groups).
 */
function sumPartialKernel(width: 1 | 4) {
  const total = width === 4 ? "dot(acc, vec4f(1.0))" : "acc";
  return defineKernel({
    name: width === 4 ? "sum_partial_vec4" : "sum_partial",
    bindings: {
      inp: { access: "read", type: width === 4 ? "vec4<f32>" : "f32" },
      partial: "write",
    },
    uniforms: { n: "u32", base: "u32", groups: "u32", square: "u32" },
    overrides: { WG: 256 },
    grid: ({ groups }) => [groups, 1, 1],
    wgsl: /* wgsl */ `${TREE_SUM}
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  var acc = ${width === 4 ? "vec4f()" : "0.0"};
  for (var i = wid.x * WG + lid; i < u.n; i += u.groups * WG) {
    let x = inp[i];
    acc += select(x, x * x, u.square == 1u);
  }
  let s = tree_sum(lid, ${total});
  if (lid == 0u) { partial[u.base + wid.x] = s; }
}`,
  });
}

/** Per-workgroup partial sums of `n` f32 values (or of their squares). */
export const sumPartial = sumPartialKernel(1);
/** Per-workgroup partial sums of `n` vec4s, components included (or of their squares). */
export const sumPartialVec4 = sumPartialKernel(4);

/**
 * Workgroups of `sum_partial_vec4` over `n4` vec4s: each invocation sums about 16 vec4s before
 * the workgroup's tree, whose barriers are what a CPU adapter pays for.
 */
export function sumGroupsVec4(n4: number, wg = 256): number {
  return Math.max(1, Math.min(ceilDiv(n4, wg * 16), MAX_PARTIALS));
}

/** `out[0] = scale · Σ partial[0..count)`, square-rooted when `root` is 1. One workgroup. */
export const sumFinal = defineKernel({
  name: "sum_final",
  bindings: { partial: "read", out: "write" },
  uniforms: { count: "u32", scale: "f32", square: "u32", root: "u32" },
  overrides: { WG: 256 },
  grid: () => [1, 1, 1],
  wgsl: /* wgsl */ `${TREE_SUM}
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var acc = 0.0;
  for (var i = lid; i < u.count; i += WG) {
    let x = partial[i];
    acc += select(x, x * x, u.square == 1u);
  }
  let s = tree_sum(lid, acc) * u.scale;
  if (lid == 0u) { out[0] = select(s, sqrt(s), u.root == 1u); }
}`,
});

/** `out[o, i] = scale · Σ_r inp[o, r, i]`, one workgroup per output element. */
export const sumAxisRows = defineKernel({
  name: "sum_axis_rows",
  bindings: { inp: "read", out: "write" },
  uniforms: { outer: "u32", r: "u32", inner: "u32", scale: "f32" },
  overrides: { WG: 256 },
  grid: ({ outer, inner }) => grid1d(outer * inner, 1),
  wgsl: /* wgsl */ `${TREE_SUM}${ROW_OF}
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let j = row_of(wid, nwg);
  let o = j / u.inner;
  let i = j % u.inner;
  var acc = 0.0;
  if (j < u.outer * u.inner) {
    for (var r = lid; r < u.r; r += WG) { acc += inp[(o * u.r + r) * u.inner + i]; }
  }
  let s = tree_sum(lid, acc);
  if (lid == 0u && j < u.outer * u.inner) { out[j] = u.scale * s; }
}`,
});

/** `out[o, i] = scale · Σ_r inp[o, r, i]`, one invocation per output element. */
export const sumAxisCols = defineKernel({
  name: "sum_axis_cols",
  bindings: { inp: "read", out: "write" },
  uniforms: { outer: "u32", r: "u32", inner: "u32", scale: "f32" },
  overrides: { WG: 256 },
  grid: ({ outer, inner }, { WG }) => grid1d(outer * inner, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flat_index(gid, nwg);
  if (j >= u.outer * u.inner) { return; }
  let o = j / u.inner;
  let i = j % u.inner;
  var acc = 0.0;
  for (var r = 0u; r < u.r; r++) { acc += inp[(o * u.r + r) * u.inner + i]; }
  out[j] = u.scale * acc;
}`,
});

/** `out[o, r, i] = scale · dout[o, i]`: the backward of a sum over one axis (or all). */
export const broadcastAxis = defineKernel({
  name: "broadcast_axis",
  bindings: { dout: "read", out: "write" },
  uniforms: { n: "u32", r: "u32", inner: "u32", scale: "f32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= u.n) { return; }
  let o = k / (u.r * u.inner);
  out[k] = u.scale * dout[o * u.inner + k % u.inner];
}`,
});

/**
 * `[O, R, I]`: the sizes before, at and after `axis` of `shape`.
 *
 * @throws {RangeError} when `axis` is outside `[-rank, rank)`.
 */
export function axisView(
  shape: readonly number[],
  axis: number,
  action = "reduce",
): { outer: number; r: number; inner: number; axis: number } {
  const rank = shape.length;
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(
      `Cannot ${action} [${shape.join(", ")}] over axis ${axis}: rank is ${rank}`,
    );
  }
  const a = axis < 0 ? axis + rank : axis;
  let outer = 1, inner = 1;
  for (let k = 0; k < a; k++) outer *= shape[k];
  for (let k = a + 1; k < rank; k++) inner *= shape[k];
  return { outer, r: shape[a], inner, axis: a };
}

// ---- float64 references -------------------------------------------------------------------

/** Reference: `scale · Σ x` over all elements, or over `axis` (that axis dropped). */
export function sumRef(
  x: Float64Array,
  shape: readonly number[],
  axis?: number,
  scale = 1,
): Float64Array {
  if (axis === undefined) {
    let s = 0;
    for (const v of x) s += v;
    return Float64Array.of(scale * s);
  }
  const { outer, r, inner } = axisView(shape, axis);
  const out = new Float64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let k = 0; k < r; k++) {
      for (let i = 0; i < inner; i++) out[o * inner + i] += x[(o * r + k) * inner + i];
    }
  }
  return out.map((v) => scale * v);
}

/** Reference backward of `sumRef`: `dx[o, r, i] = scale · dout[o, i]`. */
export function sumBackwardRef(
  dout: Float64Array,
  shape: readonly number[],
  axis?: number,
  scale = 1,
): Float64Array {
  const n = shape.reduce((p, d) => p * d, 1);
  const { r, inner } = axis === undefined ? { r: n, inner: 1 } : axisView(shape, axis);
  const dx = new Float64Array(n);
  for (let k = 0; k < n; k++) dx[k] = scale * dout[Math.floor(k / (r * inner)) * inner + k % inner];
  return dx;
}

/** Cost of summing `n` elements into `outputs` values. */
export function sumCost({ n, outputs = 1 }: { n: number; outputs?: number }): KernelCost {
  return { flops: n, bytes: 4 * (n + outputs) };
}
