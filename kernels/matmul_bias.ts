/**
 * Column sums `out[j] = Σ_r inp[r, j]` of a row-major `[R, C]` matrix: the bias gradient of
 * `linear` (`db = Σ over every leading dimension of dout`). A dedicated kernel rather than the
 * generic `reduce_to`: each invocation owns a column (four columns, as one `vec4`, when
 * `C % 4 = 0`) and walks the rows with a fixed stride, so there is no index arithmetic per
 * element and no cross-invocation reduction.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `column_sum` | inp `[R, C]` → out `[C]` | out = Σ_r inp[r, :] |
 * | `column_sum_vec4` | inp `[R, C/4]` vec4 → out `[C/4]` vec4 | same, C % 4 = 0 |
 *
 * @module
 */

import { ceilDiv, defineKernel, type KernelCost, VEC4_READ, VEC4_WRITE } from "./kernel.ts";

/** `out[j] = Σ_r inp[r·cols + j]` for any `cols`. */
export const columnSum = defineKernel({
  name: "column_sum",
  bindings: { inp: "read", out: "write" },
  uniforms: { rows: "u32", cols: "u32" },
  overrides: { WG: 32 },
  grid: ({ cols }, { WG }) => [ceilDiv(cols, WG), 1, 1],
  wgsl: /* wgsl */ `
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= u.cols) { return; }
  var acc = 0.0;
  for (var r = 0u; r < u.rows; r++) { acc += inp[r * u.cols + j]; }
  out[j] = acc;
}`,
});

/** `out[j] = Σ_r inp[r·cols4 + j]` over vec4 columns (`cols4 = C / 4`). */
export const columnSumVec4 = defineKernel({
  name: "column_sum_vec4",
  bindings: {
    inp: VEC4_READ,
    out: VEC4_WRITE,
  },
  uniforms: { rows: "u32", cols4: "u32" },
  overrides: { WG: 32 },
  grid: ({ cols4 }, { WG }) => [ceilDiv(cols4, WG), 1, 1],
  wgsl: /* wgsl */ `
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let j = gid.x;
  if (j >= u.cols4) { return; }
  var acc = vec4f(0.0);
  for (var r = 0u; r < u.rows; r++) { acc += inp[r * u.cols4 + j]; }
  out[j] = acc;
}`,
});

/** Reference for `column_sum`: sums a row-major `[rows, cols]` matrix over its rows. */
export function columnSumRef(inp: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[j] += inp[r * cols + j];
  return out;
}

/** Work of a column sum: one add and one read per element. */
export function columnSumCost({ rows, cols }: { rows: number; cols: number }): KernelCost {
  return { flops: rows * cols, bytes: 4 * (rows * cols + cols) };
}
