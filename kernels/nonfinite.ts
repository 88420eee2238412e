/**
 * Marks the first training step whose loss or gradient norm is not finite, on the GPU, so that
 * f32 training can stop on a NaN without reading anything back per step: the trainer reads the
 * 32-byte mark with the loss it already reads at logging steps (`lib/train/finite_guard.ts`).
 *
 * Formula: for each `x[i]` with every exponent bit set (inf or NaN), the first one since the
 * mark was cleared writes `[1, step, kind, tasks, bits(x[i]), i]`; later ones only count in
 * word 0. The exponent test works on bits, since a compiler may fold `x != x` away.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `note_nonfinite` | x `[n]`, mark `[8]` u32 | mark (atomically: count, then the first record) |
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

/** Words of the mark: count, step, kind, tasks, value bits, index (and two spare). */
export const MARK_WORDS = 8;

/** Records the first non-finite element of `x` under (`step`, `kind`, `tasks`). */
export const noteNonFinite = defineKernel({
  name: "note_nonfinite",
  bindings: { x: "read", mark: { access: "read_write", type: "atomic<u32>" } },
  uniforms: { n: "u32", step: "u32", kind: "u32", tasks: "u32" },
  overrides: { WG: 64 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let bits = bitcast<u32>(x[i]);
  if ((bits & 0x7f800000u) != 0x7f800000u) { return; }
  if (atomicAdd(&mark[0], 1u) == 0u) {
    atomicStore(&mark[1], u.step);
    atomicStore(&mark[2], u.kind);
    atomicStore(&mark[3], u.tasks);
    atomicStore(&mark[4], bits);
    atomicStore(&mark[5], i);
  }
}`,
});

/**
 * Reference: the mark after noting `x` into `mark` (a copy), with the first non-finite element
 * in index order (the kernel's order among threads is unspecified, so tests use one such
 * element or compare the count).
 */
export function noteNonFiniteRef(
  mark: ArrayLike<number>,
  x: ArrayLike<number>,
  record: { step: number; kind: number; tasks: number },
): number[] {
  const out = Array.from(mark);
  for (let i = 0; i < x.length; i++) {
    if (Number.isFinite(x[i])) continue;
    if (out[0]++ === 0) {
      const bits = new Uint32Array(Float32Array.of(x[i]).buffer)[0];
      out.splice(1, 5, record.step, record.kind, record.tasks, bits, i);
    }
  }
  return out;
}

/** Cost of checking `n` values (read once). */
export function noteNonFiniteCost({ n }: { n: number }): KernelCost {
  return { flops: n, bytes: 4 * n };
}
