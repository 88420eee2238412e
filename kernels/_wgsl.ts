/**
 * WGSL snippets shared by several kernels, and `range` for the kernels that generate theirs.
 *
 * @module
 */

/** `[0, 1, …, n − 1]`: the indices a generated kernel unrolls over. */
export const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * `flat_index(gid, nwg)`: the flat invocation index of a 1-D launch folded by `grid1d`. Needs
 * the `WG` override and the `num_workgroups` builtin.
 */
export const FLAT_INDEX = /* wgsl */ `
fn flat_index(gid: vec3u, nwg: vec3u) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}
`;

/**
 * `erf_approx(x)` and `erfc_approx(x)`: WGSL has no `erf`. This is the Chebyshev fit of erfc
 * (Numerical Recipes, 2nd ed., §6.2, `erfcc`), fractional error below 1.2e-7 everywhere, which is
 * at f32 precision. `erfc_approx` keeps that relative precision in the tail (erfc(x) → 0 as
 * x → ∞), where `1 − erf_approx(x)` would cancel; the normal CDF of exact-erf GELU builds on it.
 */
export const ERF_FN = /* wgsl */ `
fn erfc_approx(x: f32) -> f32 {
  // erfc(|x|) = t * exp(-x^2 + poly(t)) with t = 1 / (1 + |x| / 2); erfc(-x) = 2 - erfc(x)
  let z = abs(x);
  let t = 1.0 / (1.0 + 0.5 * z);
  let p = -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 +
    t * (-0.82215223 + t * 0.17087277))))))));
  let r = t * exp(p);
  return select(2.0 - r, r, x >= 0.0);
}

fn erf_approx(x: f32) -> f32 {
  return 1.0 - erfc_approx(x);
}
`;
