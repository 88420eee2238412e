/**
 * Block-diagonal placement for CA-MTL's conditional attention (docs/model.md §4.2): the modulated
 * matrix `Â` `[B, L, c]` is cut along its rows into chunks of `c` rows, the chunks are placed
 * on the diagonal, and the result is cropped to its top-left `T × T` (T ≤ L, the batch's
 * padded length):
 *
 *   M[b, r, j] = Â[b, r, j − c·⌊r/c⌋]  if ⌊r/c⌋ = ⌊j/c⌋,  else 0.
 *
 * (torch.chunk into N = C/L pieces gives chunks of ⌈L/N⌉ = c rows, so the chunk size equals
 * the width of `Â`.)
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `block_diag_forward` | x `[B, L, c]` → out `[B, T, T]` | overwrites |
 * | `block_diag_backward` | dout `[B, T, T]` → dx `[B, L, c]` | overwrites (0 outside the crop) |
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

const SIZES = { n: "u32", L: "u32", c: "u32", T: "u32" } as const;

/** M from Â. */
export const blockDiagForward = defineKernel({
  name: "block_diag_forward",
  bindings: { x: "read", out: "write" },
  uniforms: SIZES,
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let j = i % u.T;
  let r = (i / u.T) % u.T;
  let b = i / (u.T * u.T);
  var v = 0.0;
  if (r / u.c == j / u.c) {
    v = x[(b * u.L + r) * u.c + (j - (r / u.c) * u.c)];
  }
  out[i] = v;
}`,
});

/** dÂ from dM. */
export const blockDiagBackward = defineKernel({
  name: "block_diag_backward",
  bindings: { dout: "read", dx: "write" },
  uniforms: SIZES,
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let k = i % u.c;
  let r = (i / u.c) % u.L;
  let b = i / (u.L * u.c);
  let j = (r / u.c) * u.c + k;
  var g = 0.0;
  if (r < u.T && j < u.T) {
    g = dout[(b * u.T + r) * u.T + j];
  }
  dx[i] = g;
}`,
});

/** Float64 reference of `block_diag_forward`. */
export function blockDiagForwardRef(
  x: Float64Array,
  { B, L, c, T }: { B: number; L: number; c: number; T: number },
): Float64Array {
  const out = new Float64Array(B * T * T);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < T; r++) {
      for (let j = 0; j < T; j++) {
        const block = Math.floor(r / c);
        if (block === Math.floor(j / c)) {
          out[(b * T + r) * T + j] = x[(b * L + r) * c + j - block * c];
        }
      }
    }
  }
  return out;
}

/** Float64 reference of `block_diag_backward`. */
export function blockDiagBackwardRef(
  dout: Float64Array,
  { B, L, c, T }: { B: number; L: number; c: number; T: number },
): Float64Array {
  const dx = new Float64Array(B * L * c);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < T; r++) {
      for (let j = 0; j < T; j++) {
        const block = Math.floor(r / c);
        if (block === Math.floor(j / c)) {
          dx[(b * L + r) * c + j - block * c] += dout[(b * T + r) * T + j];
        }
      }
    }
  }
  return dx;
}

/** Cost of `block_diag_forward`. */
export function blockDiagCost({ B, T }: { B: number; T: number }): KernelCost {
  return { flops: 0, bytes: 8 * B * T * T };
}
