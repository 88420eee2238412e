/**
 * Deterministic scatter-add of rows: `out[r, :] = Σ_{m : index[m] = r} src[m, :]`, summed in
 * ascending m, for the backward of an embedding lookup or a row gather. WGSL has no float
 * atomics, and a compare-and-swap loop would add in a different order every run, so instead:
 *
 * 1. sort the positions m by row with a stable LSD radix sort on 8-bit digits (per-block
 *    digit histograms with workgroup integer atomics, one exclusive scan, then a stable scatter
 *    that ranks each element among the equal digits before it in its block);
 * 2. find where each row's segment starts in the sorted order (binary search per row);
 * 3. sum each segment in sorted (= ascending m) order: one invocation per (row, column); a
 *    segment longer than `CHUNK` is first cut at fixed multiples of `CHUNK` of the sorted
 *    order, each piece summed into `partial`, and the pieces summed in order.
 * Every step is integer exact or has a fixed order, so results are bitwise reproducible.
 *
 * Shapes: index i32 `[M]` (clamped to `[0, R)`), src `[M, D]`, out `[R, D]`; rows equal to
 * `pad` (-1: none) get zero, as `padding_idx` does in `nn.Embedding`.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `radix_init` | index → keys, vals | keys = clamped index, vals = position |
 * | `radix_histogram` | keys → counts | counts[digit · blocks + block] |
 * | `exclusive_scan` | counts → offsets | exclusive prefix sums (one workgroup) |
 * | `radix_scatter` | keys, vals, offsets → keys_out, vals_out | stable placement by digit |
 * | `segment_starts` | keys → starts | starts[r] = first sorted slot with key ≥ r, r ∈ [0, R] |
 * | `segment_partial` | keys, vals, starts, src → partial | piece sums of long segments |
 * | `segment_sum` | vals, starts, src, partial → out | out[r, c] |
 *
 * `segment_partial_vec4` and `segment_sum_vec4` sum four columns at a time when D is a multiple
 * of 4; each column is still summed in the same order, so they give the same bits.
 *
 * @module
 */

import { ceilDiv, defineKernel, grid1d, type KernelCost, MAX_GRID } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

/**
 * Segments longer than this are summed in pieces of this many rows. Small, so that no
 * invocation walks a long chain of dependent loads (sorted slot → position → source row);
 * the pieces' sums are independent loads.
 */
export const CHUNK = 16;
/** Elements per radix-sort block (one per invocation). */
export const SORT_BLOCK = 256;
/** Bits of the row index sorted per radix pass. */
export const RADIX_BITS = 8;

const U32 = (access: "read" | "write") => ({ access, type: "u32" }) as const;

/** Radix passes needed to sort row indices in `[0, rows)`. */
export function radixPasses(rows: number): number {
  const bits = rows <= 1 ? 0 : Math.ceil(Math.log2(rows));
  return Math.ceil(bits / RADIX_BITS);
}

/** `keys[i] = clamp(index[i], 0, rows − 1)`, `vals[i] = i`. */
export const radixInit = defineKernel({
  name: "radix_init",
  bindings: { index: { access: "read", type: "i32" }, keys: U32("write"), vals: U32("write") },
  uniforms: { n: "u32", rows: "u32" },
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  keys[i] = u32(clamp(index[i], 0, i32(u.rows) - 1));
  vals[i] = i;
}`,
});

/** Per-block counts of each 8-bit digit `(key >> shift) & 255`, digit-major. */
export const radixHistogram = defineKernel({
  name: "radix_histogram",
  bindings: { keys: U32("read"), counts: U32("write") },
  uniforms: { n: "u32", shift: "u32", blocks: "u32" },
  overrides: { WG: SORT_BLOCK },
  grid: ({ blocks }) => [blocks, 1, 1],
  wgsl: /* wgsl */ `
var<workgroup> hist: array<atomic<u32>, 256>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  for (var d = lid; d < 256u; d += WG) { atomicStore(&hist[d], 0u); }
  workgroupBarrier();
  let i = wid.x * WG + lid;
  if (i < u.n) { atomicAdd(&hist[(keys[i] >> u.shift) & 255u], 1u); }
  workgroupBarrier();
  for (var d = lid; d < 256u; d += WG) { counts[d * u.blocks + wid.x] = atomicLoad(&hist[d]); }
}`,
});

/** `offsets[i] = Σ_{j < i} counts[j]` over `len` values, by one workgroup. */
export const exclusiveScan = defineKernel({
  name: "exclusive_scan",
  bindings: { counts: U32("read"), offsets: U32("write") },
  uniforms: { len: "u32" },
  overrides: { WG: 256 },
  grid: () => [1, 1, 1],
  wgsl: /* wgsl */ `
var<workgroup> sh: array<u32, WG>;
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  // Each invocation owns a contiguous chunk; scan the chunk totals, then rescan each chunk.
  let chunk = (u.len + WG - 1u) / WG;
  let lo = min(lid * chunk, u.len);
  let hi = min(lo + chunk, u.len);
  var s = 0u;
  for (var i = lo; i < hi; i++) { s += counts[i]; }
  sh[lid] = s;
  workgroupBarrier();
  for (var off = 1u; off < WG; off <<= 1u) {
    var t = 0u;
    if (lid >= off) { t = sh[lid - off]; }
    workgroupBarrier();
    sh[lid] += t;
    workgroupBarrier();
  }
  var run = sh[lid] - s;
  for (var i = lo; i < hi; i++) {
    let c = counts[i];
    offsets[i] = run;
    run += c;
  }
}`,
});

/** Stable placement of each block's elements by digit, after `exclusive_scan`. */
export const radixScatter = defineKernel({
  name: "radix_scatter",
  bindings: {
    keys: U32("read"),
    vals: U32("read"),
    offsets: U32("read"),
    keys_out: U32("write"),
    vals_out: U32("write"),
  },
  uniforms: { n: "u32", shift: "u32", blocks: "u32" },
  overrides: { WG: SORT_BLOCK },
  grid: ({ blocks }) => [blocks, 1, 1],
  wgsl: /* wgsl */ `
var<workgroup> digits: array<u32, WG>;
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = wid.x * WG + lid;
  var key = 0u;
  var digit = 0xffffffffu;
  if (i < u.n) {
    key = keys[i];
    digit = (key >> u.shift) & 255u;
  }
  digits[lid] = digit;
  workgroupBarrier();
  if (i >= u.n) { return; }
  var rank = 0u;
  for (var j = 0u; j < lid; j++) { rank += select(0u, 1u, digits[j] == digit); }
  let dst = offsets[digit * u.blocks + wid.x] + rank;
  keys_out[dst] = key;
  vals_out[dst] = vals[i];
}`,
});

/** `starts[r]` = the first sorted slot whose key is ≥ r, for r in `[0, rows]`. */
export const segmentStarts = defineKernel({
  name: "segment_starts",
  bindings: { keys: U32("read"), starts: U32("write") },
  uniforms: { n: "u32", rows: "u32" },
  overrides: { WG: 256 },
  grid: ({ rows }, { WG }) => grid1d(rows + 1, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let r = flat_index(gid, nwg);
  if (r > u.rows) { return; }
  var lo = 0u;
  var hi = u.n;
  while (lo < hi) {
    let mid = (lo + hi) / 2u;
    if (keys[mid] < r) { lo = mid + 1u; } else { hi = mid; }
  }
  starts[r] = lo;
}`,
});

/** The value type the segment kernels sum: one f32, or four columns at once. */
export type SegmentValue = "f32" | "vec4<f32>";

/** A grid of `cols` invocations (in workgroups of `wg`) times `groups` workgroup rows. */
function columnGrid(cols: number, groups: number, wg: number): [number, number, number] {
  const y = Math.max(1, Math.min(groups, MAX_GRID));
  return [Math.max(1, ceilDiv(cols, wg)), y, Math.max(1, ceilDiv(groups, MAX_GRID))];
}

const segmentPartialOf = (value: SegmentValue) =>
  defineKernel({
    name: value === "f32" ? "segment_partial" : "segment_partial_vec4",
    bindings: {
      keys: U32("read"),
      vals: U32("read"),
      starts: U32("read"),
      src: { access: "read", type: value },
      partial: { access: "write", type: value },
    },
    uniforms: { n: "u32", d: "u32" },
    overrides: { WG: 64, CHUNK },
    grid: ({ n, d }, { WG, CHUNK }) => columnGrid(d, ceilDiv(n, CHUNK), WG),
    wgsl: /* wgsl */ `alias Val = ${value};
@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
) {
  let lo = (wid.y + wid.z * nwg.y) * CHUNK;
  let c = wid.x * WG + lid;
  if (lo >= u.n || c >= u.d) { return; }
  let hi = min(lo + CHUNK, u.n);
  var acc = Val();
  for (var i = lo; i < hi; i++) {
    let key = keys[i];
    let first = starts[key];
    if (starts[key + 1u] - first <= CHUNK) { continue; }
    acc += src[vals[i] * u.d + c];
    if (i + 1u == hi || keys[i + 1u] != key) {
      partial[max(lo, first) * u.d + c] = acc;
      acc = Val();
    }
  }
}`,
  });

const segmentSumOf = (value: SegmentValue) =>
  defineKernel({
    name: value === "f32" ? "segment_sum" : "segment_sum_vec4",
    bindings: {
      vals: U32("read"),
      starts: U32("read"),
      src: { access: "read", type: value },
      partial: { access: "read", type: value },
      out: { access: "write", type: value },
    },
    uniforms: { rows: "u32", d: "u32", pad: "i32" },
    overrides: { WG: 256, CHUNK },
    // One invocation per (row, column), rows × columns laid flat: an embedding table has many
    // rows of few columns, and a workgroup per row left most of its invocations idle.
    grid: ({ rows, d }, { WG }) => grid1d(rows * d, WG),
    wgsl: /* wgsl */ `alias Val = ${value};
${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.rows * u.d) { return; }
  let r = i / u.d;
  let c = i % u.d;
  let s0 = starts[r];
  let s1 = starts[r + 1u];
  var acc = Val();
  if (i32(r) == u.pad) {
    acc = Val();
  } else if (s1 - s0 <= CHUNK) {
    for (var i = s0; i < s1; i++) { acc += src[vals[i] * u.d + c]; }
  } else {
    for (var p = s0; p < s1; p = (p / CHUNK + 1u) * CHUNK) { acc += partial[p * u.d + c]; }
  }
  out[r * u.d + c] = acc;
}`,
  });

/**
 * For segments longer than `CHUNK`: the sum of each piece (a segment cut at multiples of
 * `CHUNK` of the sorted order) into `partial[first slot of the piece, c]`. One workgroup row
 * per `CHUNK` sorted slots, one invocation per column.
 */
export const segmentPartial = segmentPartialOf("f32");
/** `segment_partial` over vec4 columns (`d` counts vec4s; D a multiple of 4). */
export const segmentPartialVec4 = segmentPartialOf("vec4<f32>");
/**
 * `out[r, c]`: the segment of row r summed in order (directly, or over its pieces). One
 * invocation per output element.
 */
export const segmentSum = segmentSumOf("f32");
/** `segment_sum` over vec4 columns (`d` counts vec4s; D a multiple of 4). */
export const segmentSumVec4 = segmentSumOf("vec4<f32>");

/** Reference: `out[r] = Σ_{m : clamp(index[m]) = r} src[m]` (zero for `pad`), float64. */
export function scatterAddRef(
  src: Float64Array,
  index: ArrayLike<number>,
  rows: number,
  d: number,
  pad = -1,
): Float64Array {
  const out = new Float64Array(rows * d);
  for (let m = 0; m < index.length; m++) {
    const r = Math.min(Math.max(index[m], 0), rows - 1);
    if (r === pad) continue;
    for (let c = 0; c < d; c++) out[r * d + c] += src[m * d + c];
  }
  return out;
}

/** Cost of a scatter-add of `m` rows of width `d` into `rows` rows (sort traffic excluded). */
export function scatterAddCost({ m, rows, d }: { m: number; rows: number; d: number }): KernelCost {
  return { flops: m * d, bytes: 4 * (m * d + rows * d) };
}
