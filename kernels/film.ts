/**
 * FiLM modulation, `out[b, r, d] = (1 + γ[b, d]) · x[b, r, d] + β[b, d]`, where each example's
 * generator output `gb[b] = [γ[b] | β[b]]` is `[2D]` (Perez et al. 2018, "FiLM"; docs/model.md
 * §2.2). `x` is either per example `[B, R, D]` or shared by the batch `[R, D]` (a parameter such as
 * a layer norm gain or the conditional-attention matrix), selected by `shared`.
 *
 * | kernel | bindings | writes |
 * |---|---|---|
 * | `film_forward` | x, gb → out `[B, R, D]` | overwrites |
 * | `film_backward_x` | dout, gb → dx (`[B, R, D]` or `[R, D]`, summed over b when shared) | overwrites |
 * | `film_backward_gb` | dout, x → dgb `[B, 2D]` (Σ_r dout·x, Σ_r dout) | overwrites |
 *
 * @module
 */

import { defineKernel, grid1d, type KernelCost } from "./kernel.ts";
import { FLAT_INDEX } from "./_wgsl.ts";

const SIZES = { n: "u32", B: "u32", R: "u32", D: "u32", bcast: "u32" } as const;

/** out = (1 + γ) ⊙ x + β. */
export const filmForward = defineKernel({
  name: "film_forward",
  bindings: { x: "read", gb: "read", out: "write" },
  uniforms: SIZES,
  overrides: { WG: 256 },
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let d = i % u.D;
  let b = i / (u.R * u.D);
  let xi = select(i, i % (u.R * u.D), u.bcast == 1u);
  out[i] = (1.0 + gb[b * 2u * u.D + d]) * x[xi] + gb[b * 2u * u.D + u.D + d];
}`,
});

/** dx = dout ⊙ (1 + γ), summed over the batch when x is shared. */
export const filmBackwardX = defineKernel({
  name: "film_backward_x",
  bindings: { dout: "read", gb: "read", dx: "write" },
  uniforms: SIZES,
  overrides: { WG: 256 },
  // n = elements of dx
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat_index(gid, nwg);
  if (i >= u.n) { return; }
  let d = i % u.D;
  if (u.bcast == 0u) {
    let b = i / (u.R * u.D);
    dx[i] = dout[i] * (1.0 + gb[b * 2u * u.D + d]);
    return;
  }
  var acc = 0.0;
  for (var b = 0u; b < u.B; b++) {
    acc += dout[b * u.R * u.D + i] * (1.0 + gb[b * 2u * u.D + d]);
  }
  dx[i] = acc;
}`,
});

/** dγ[b, d] = Σ_r dout·x and dβ[b, d] = Σ_r dout. */
export const filmBackwardGb = defineKernel({
  name: "film_backward_gb",
  bindings: { dout: "read", x: "read", dgb: "write" },
  uniforms: SIZES,
  overrides: { WG: 64 },
  // n = B·D
  grid: ({ n }, { WG }) => grid1d(n, WG),
  wgsl: /* wgsl */ `${FLAT_INDEX}
@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let j = flat_index(gid, nwg);
  if (j >= u.n) { return; }
  let b = j / u.D;
  let d = j % u.D;
  var dg = 0.0;
  var db = 0.0;
  for (var r = 0u; r < u.R; r++) {
    let g = dout[(b * u.R + r) * u.D + d];
    let xi = select((b * u.R + r) * u.D + d, r * u.D + d, u.bcast == 1u);
    dg += g * x[xi];
    db += g;
  }
  dgb[b * 2u * u.D + d] = dg;
  dgb[b * 2u * u.D + u.D + d] = db;
}`,
});

/** Shapes of a FiLM call: B examples, R rows each, D features; `shared` when x is `[R, D]`. */
export interface FilmSizes {
  B: number;
  R: number;
  D: number;
  shared: boolean;
}

/** Float64 reference of `film_forward`. */
export function filmForwardRef(x: Float64Array, gb: Float64Array, s: FilmSizes): Float64Array {
  const { B, R, D } = s;
  const out = new Float64Array(B * R * D);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < R; r++) {
      for (let d = 0; d < D; d++) {
        const xv = x[s.shared ? r * D + d : (b * R + r) * D + d];
        out[(b * R + r) * D + d] = (1 + gb[b * 2 * D + d]) * xv + gb[b * 2 * D + D + d];
      }
    }
  }
  return out;
}

/** Float64 reference of the backward: `[dx, dgb]`. */
export function filmBackwardRef(
  x: Float64Array,
  gb: Float64Array,
  dout: Float64Array,
  s: FilmSizes,
): [Float64Array, Float64Array] {
  const { B, R, D } = s;
  const dx = new Float64Array(x.length);
  const dgb = new Float64Array(B * 2 * D);
  for (let b = 0; b < B; b++) {
    for (let r = 0; r < R; r++) {
      for (let d = 0; d < D; d++) {
        const i = (b * R + r) * D + d;
        const xi = s.shared ? r * D + d : i;
        dx[xi] += dout[i] * (1 + gb[b * 2 * D + d]);
        dgb[b * 2 * D + d] += dout[i] * x[xi];
        dgb[b * 2 * D + D + d] += dout[i];
      }
    }
  }
  return [dx, dgb];
}

/** Cost of `film_forward`. */
export function filmCost({ B, R, D }: FilmSizes): KernelCost {
  return { flops: 2 * B * R * D, bytes: 4 * (2 * B * R * D + 2 * B * D) };
}
