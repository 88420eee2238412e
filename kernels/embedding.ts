/**
 * Row gather: the embedding lookup `out[n, :] = weight[ids[n], :]` and `gatherRows`
 * (`out[m, :] = x[index[m], :]`). The kernel copies 32-bit words, so it serves f32 and i32
 * tables alike (`gather_rows_vec4` moves four words at a time when `D` is a multiple of 4, with
 * `n` and `d` counted in vec4s). Indices are clamped to `[0, R)` so that no read goes out of bounds,
 * and the first index outside that range is reported through the device's fault flags
 * (`lib/gpu/faults.ts`; binding `fault`, uniform `site`), which the next readback turns into an
 * error. Host code checks the ids it uploads before that (`lib/nn/validate_inputs.ts`).
 *
 * The backward, a scatter-add into `[R, D]`, is the deterministic sort-based one of
 * `kernels/scatter_add.ts`.
 *
 * Shapes: table `[R, D]`, index i32 `[M]` (any shape, flattened), out `[M, D]`.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `gather_rows` | table, index → out, fault | out[m, c] = table[clamp(index[m]), c] |
 *
 * See https://pytorch.org/docs/stable/generated/torch.nn.Embedding.html.
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";
import type { Word } from "./copy_word.ts";
import { FAULT_BINDING, FAULT_SPEC, REPORT_FAULT } from "./fault.ts";

const gatherRowsOf = (word: Word) =>
  defineKernel({
    name: word === "u32" ? "gather_rows" : "gather_rows_vec4",
    bindings: {
      table: { access: "read", type: word },
      index: { access: "read", type: "i32" },
      out: { access: "write", type: word },
      [FAULT_BINDING]: FAULT_SPEC,
    },
    uniforms: { n: "u32", d: "u32", rows: "u32", site: "u32" },
    overrides: { WG: 256 },
    grid: ({ n }, { WG }) => grid1d(n, WG),
    wgsl: /* wgsl */ `${FLAT_INDEX}${REPORT_FAULT}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let k = flat_index(gid, nwg);
  if (k >= u.n) { return; }
  let m = k / u.d;
  let raw = index[m];
  if ((raw < 0 || raw >= i32(u.rows)) && k % u.d == 0u) { report_fault(u.site, bitcast<u32>(raw), m); }
  let r = u32(clamp(raw, 0, i32(u.rows) - 1));
  out[k] = table[r * u.d + k % u.d];
}`,
  });

/** `out[m, c] = table[clamp(index[m], 0, rows − 1), c]` for `n = M · d` outputs. */
export const gatherRowsKernel = gatherRowsOf("u32");
/** `gather_rows` moving vec4s (`n`, `d` in vec4s). */
export const gatherRowsVec4 = gatherRowsOf("vec4<u32>");

/** Reference: `out[m] = table[clamp(index[m])]`, rows of width `d`. */
export function gatherRowsRef(
  table: Float64Array,
  index: ArrayLike<number>,
  d: number,
): Float64Array {
  const rows = table.length / d;
  const out = new Float64Array(index.length * d);
  for (let m = 0; m < index.length; m++) {
    const r = Math.min(Math.max(index[m], 0), rows - 1);
    out.set(table.subarray(r * d, (r + 1) * d), m * d);
  }
  return out;
}

/** Cost of gathering `m` rows of width `d`: read the index and the rows, write the rows. */
export function gatherRowsCost({ m, d }: { m: number; d: number }): KernelCost {
  return { flops: 0, bytes: 4 * (2 * m * d + m) };
}
