/**
 * The attention head split and merge: `[B, T, NH·HS]` viewed as `[B, T, NH, HS]` ↔
 * `[B, NH, T, HS]`. Both are the same copy, swapping the two middle dimensions of a 4-D array:
 * `out[a, y, x, d] = inp[a, x, y, d]` for `inp` `[A, X, Y, D]`; split uses (X, Y) = (T, NH),
 * merge (X, Y) = (NH, T). The kernel copies 32-bit words (f32 or i32), reading runs of `D`
 * consecutive values and writing the output in order; `swap_middle_vec4` moves four words at
 * a time when `D` is a multiple of 4 (its `d` uniform counts vec4s).
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `swap_middle`, `swap_middle_vec4` | inp → out | out[a, y, x, d] = inp[a, x, y, d] |
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import type { Word } from "./copy_word.ts";

const swapMiddleOf = (word: Word) =>
  defineKernel({
    name: word === "u32" ? "swap_middle" : "swap_middle_vec4",
    bindings: { inp: { access: "read", type: word }, out: { access: "write", type: word } },
    uniforms: { n: "u32", x: "u32", y: "u32", d: "u32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= u.n) { return; }
  let dd = k % u.d;
  let r = k / u.d;
  let xx = r % u.x;
  let r2 = r / u.x;
  let yy = r2 % u.y;
  let a = r2 / u.y;
  out[k] = inp[((a * u.x + xx) * u.y + yy) * u.d + dd];
}`,
  });

/** `out` `[A, Y, X, D]` from `inp` `[A, X, Y, D]`, one invocation per output word. */
export const swapMiddle = swapMiddleOf("u32");
/** `swap_middle` moving vec4s: `d` (and `n`) count vec4s; needs D a multiple of 4. */
export const swapMiddleVec4 = swapMiddleOf("vec4<u32>");

/** Reference: swaps the middle dimensions of `inp` `[A, X, Y, D]` → `[A, Y, X, D]`. */
export function swapMiddleRef(
  inp: Float64Array,
  [a, x, y, d]: readonly [number, number, number, number],
): Float64Array {
  const out = new Float64Array(inp.length);
  for (let i = 0; i < a; i++) {
    for (let j = 0; j < x; j++) {
      for (let k = 0; k < y; k++) {
        for (let l = 0; l < d; l++) {
          out[((i * y + k) * x + j) * d + l] = inp[((i * x + j) * y + k) * d + l];
        }
      }
    }
  }
  return out;
}

/** Cost of moving `n` words (read and write). */
export function copyCost({ n }: { n: number }): KernelCost {
  return { flops: 0, bytes: 8 * n };
}
