/**
 * Copies along one axis: `slice` (a range of one axis, e.g. the [CLS] row), its backward (the
 * slice written into zeros) and `concat` of two tensors. Every shape is viewed around the axis
 * as `[O, L, I]` (sizes before, along and after it), so any rank works. The kernels copy
 * 32-bit words (f32 or i32); the `_vec4` variants move four at a time when `I` is a multiple
 * of 4, with `n` and `inner` counted in vec4s.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `slice_forward` | inp `[O, L, I]` → out `[O, J, I]` | out[o, j, i] = inp[o, start + j, i] |
 * | `slice_backward` | dout `[O, J, I]` → dinp `[O, L, I]` | dout inside the range, 0 outside |
 * | `concat_forward` | a `[O, La, I]`, b `[O, Lb, I]` → out `[O, La + Lb, I]` | a then b |
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import type { Word } from "./copy_word.ts";

const IN = (word: Word) => ({ access: "read", type: word }) as const;
const OUT = (word: Word) => ({ access: "write", type: word }) as const;
const suffix = (word: Word) => (word === "u32" ? "" : "_vec4");

const sliceForwardOf = (word: Word) =>
  defineKernel({
    name: `slice_forward${suffix(word)}`,
    bindings: { inp: IN(word), out: OUT(word) },
    uniforms: { n: "u32", len: "u32", count: "u32", start: "u32", inner: "u32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= u.n) { return; }
  let i = k % u.inner;
  let r = k / u.inner;
  let j = r % u.count;
  let o = r / u.count;
  out[k] = inp[(o * u.len + u.start + j) * u.inner + i];
}`,
  });

const sliceBackwardOf = (word: Word) =>
  defineKernel({
    name: `slice_backward${suffix(word)}`,
    bindings: { dout: IN(word), dinp: OUT(word) },
    uniforms: { n: "u32", len: "u32", count: "u32", start: "u32", inner: "u32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= u.n) { return; }
  let i = k % u.inner;
  let r = k / u.inner;
  let l = r % u.len;
  let o = r / u.len;
  var v = ${word}();
  if (l >= u.start && l < u.start + u.count) {
    v = dout[(o * u.count + l - u.start) * u.inner + i];
  }
  dinp[k] = v;
}`,
  });

const concatForwardOf = (word: Word) =>
  defineKernel({
    name: `concat_forward${suffix(word)}`,
    bindings: { a: IN(word), b: IN(word), out: OUT(word) },
    uniforms: { n: "u32", la: "u32", lb: "u32", inner: "u32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= u.n) { return; }
  let i = k % u.inner;
  let r = k / u.inner;
  let len = u.la + u.lb;
  let l = r % len;
  let o = r / len;
  if (l < u.la) {
    out[k] = a[(o * u.la + l) * u.inner + i];
  } else {
    out[k] = b[(o * u.lb + l - u.la) * u.inner + i];
  }
}`,
  });

/** `out[o, j, i] = inp[o, start + j, i]` for `j < count`, one invocation per output word. */
export const sliceForward = sliceForwardOf("u32");
/** `slice_forward` moving vec4s (`n`, `inner` in vec4s). */
export const sliceForwardVec4 = sliceForwardOf("vec4<u32>");
/** `dinp[o, l, i] = dout[o, l − start, i]` inside the slice, 0 elsewhere (all of `dinp`). */
export const sliceBackward = sliceBackwardOf("u32");
/** `slice_backward` moving vec4s (`n`, `inner` in vec4s). */
export const sliceBackwardVec4 = sliceBackwardOf("vec4<u32>");
/** `out[o, l, i]` = `a[o, l, i]` for `l < la`, else `b[o, l − la, i]`. */
export const concatForward = concatForwardOf("u32");
/** `concat_forward` moving vec4s (`n`, `inner` in vec4s). */
export const concatForwardVec4 = concatForwardOf("vec4<u32>");

/** Reference: `inp` `[O, L, I]` → `[O, count, I]` from `start` along the middle axis. */
export function sliceRef(
  inp: Float64Array,
  [outer, len, inner]: readonly [number, number, number],
  start: number,
  count: number,
): Float64Array {
  const out = new Float64Array(outer * count * inner);
  for (let o = 0; o < outer; o++) {
    const from = (o * len + start) * inner;
    out.set(inp.subarray(from, from + count * inner), o * count * inner);
  }
  return out;
}

/** Reference backward of `sliceRef`: `dout` placed into zeros of shape `[O, L, I]`. */
export function sliceBackwardRef(
  dout: Float64Array,
  [outer, len, inner]: readonly [number, number, number],
  start: number,
  count: number,
): Float64Array {
  const d = new Float64Array(outer * len * inner);
  for (let o = 0; o < outer; o++) {
    d.set(dout.subarray(o * count * inner, (o + 1) * count * inner), (o * len + start) * inner);
  }
  return d;
}

/** Reference: `a` `[O, La, I]` and `b` `[O, Lb, I]` joined along the middle axis. */
export function concatRef(
  a: Float64Array,
  b: Float64Array,
  [outer, la, lb, inner]: readonly [number, number, number, number],
): Float64Array {
  const out = new Float64Array(outer * (la + lb) * inner);
  for (let o = 0; o < outer; o++) {
    out.set(a.subarray(o * la * inner, (o + 1) * la * inner), o * (la + lb) * inner);
    out.set(b.subarray(o * lb * inner, (o + 1) * lb * inner), (o * (la + lb) + la) * inner);
  }
  return out;
}

/** Cost of a copy that writes `n` words (slice, its backward, concat): read and write. */
export function sliceCost({ n }: { n: number }): KernelCost {
  return { flops: 0, bytes: 8 * n };
}
