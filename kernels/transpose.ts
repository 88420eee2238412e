/**
 * The transpose of a row-major `[R, C]` matrix of 32-bit words, with R and C multiples of 4:
 * each invocation moves one 4×4 block, reading its four rows as vec4s and writing the four rows
 * of the transposed block, so both sides are whole vec4s. `linear` uses it to lay a weight
 * `[OUT, IN]` out as `[IN, OUT]` for the product CPU adapters run faster
 * (`transposedWeightProduct` in `lib/gpu/kernel_choice.ts`).
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `transpose4` | inp `[R, C]` → out `[C, R]` | out[j, i] = inp[i, j] |
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

const VEC4 = (access: "read" | "write") => ({ access, type: "vec4<u32>" }) as const;

/** `out = inpᵀ` for `inp` `[R, C]`; `r4` = R / 4 and `c4` = C / 4 blocks. */
export const transpose4 = defineKernel({
  name: "transpose4",
  bindings: { inp: VEC4("read"), out: VEC4("write") },
  uniforms: { r4: "u32", c4: "u32" },
  overrides: { WG: 64 },
  grid: ({ r4, c4 }, { WG }) => grid1d(r4 * c4, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= u.r4 * u.c4) { return; }
  // Block (bi, bj): rows 4bi.. of inp at vec4 column bj; it lands at rows 4bj.. of out, vec4
  // column bi. Consecutive invocations take consecutive blocks of one block row.
  let bi = k / u.c4;
  let bj = k % u.c4;
  let r0 = inp[(4u * bi) * u.c4 + bj];
  let r1 = inp[(4u * bi + 1u) * u.c4 + bj];
  let r2 = inp[(4u * bi + 2u) * u.c4 + bj];
  let r3 = inp[(4u * bi + 3u) * u.c4 + bj];
  out[(4u * bj) * u.r4 + bi] = vec4u(r0.x, r1.x, r2.x, r3.x);
  out[(4u * bj + 1u) * u.r4 + bi] = vec4u(r0.y, r1.y, r2.y, r3.y);
  out[(4u * bj + 2u) * u.r4 + bi] = vec4u(r0.z, r1.z, r2.z, r3.z);
  out[(4u * bj + 3u) * u.r4 + bi] = vec4u(r0.w, r1.w, r2.w, r3.w);
}`,
});

/** Reference: `inpᵀ` of a row-major `[rows, cols]` array. */
export function transposeRef(inp: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[j * rows + i] = inp[i * cols + j];
  }
  return out;
}

/** Cost: every word read once and written once. */
export function transposeCost({ r4, c4 }: { r4: number; c4: number }): KernelCost {
  return { flops: 0, bytes: 2 * 4 * 16 * r4 * c4 };
}
