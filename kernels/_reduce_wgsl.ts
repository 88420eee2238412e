/**
 * Workgroup tree reductions shared by the row kernels (reduce, cross-entropy, softmax, layer
 * norm), and the row index of their one-workgroup-per-row launches. Each declares a
 * `var<workgroup>` array of `WG` elements, so the kernel needs a power-of-two `WG` override and
 * must call the function from uniform control flow (every invocation of the workgroup). The
 * summation order is fixed by the tree, so results are deterministic.
 *
 * @module
 */

/** `tree_sum(lid, v)`: the sum of `v` over the workgroup, returned to every invocation. */
export const TREE_SUM = /* wgsl */ `
var<workgroup> tree_sum_sh: array<f32, WG>;
fn tree_sum(lid: u32, v: f32) -> f32 {
  tree_sum_sh[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { tree_sum_sh[lid] += tree_sum_sh[lid + s]; }
    workgroupBarrier();
  }
  let r = tree_sum_sh[0];
  workgroupBarrier();
  return r;
}
`;

/** `tree_max(lid, v)`: the maximum of `v` over the workgroup, returned to every invocation. */
export const TREE_MAX = /* wgsl */ `
var<workgroup> tree_max_sh: array<f32, WG>;
fn tree_max(lid: u32, v: f32) -> f32 {
  tree_max_sh[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { tree_max_sh[lid] = max(tree_max_sh[lid], tree_max_sh[lid + s]); }
    workgroupBarrier();
  }
  let r = tree_max_sh[0];
  workgroupBarrier();
  return r;
}
`;

/** `tree_sum2(lid, v)`: two sums at once (`vec2<f32>`), as `tree_sum` does for one. */
export const TREE_SUM2 = /* wgsl */ `
var<workgroup> tree_sum2_sh: array<vec2<f32>, WG>;
fn tree_sum2(lid: u32, v: vec2<f32>) -> vec2<f32> {
  tree_sum2_sh[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s >>= 1u) {
    if (lid < s) { tree_sum2_sh[lid] += tree_sum2_sh[lid + s]; }
    workgroupBarrier();
  }
  let r = tree_sum2_sh[0];
  workgroupBarrier();
  return r;
}
`;

/**
 * `row_of(wid, nwg)`: the flat workgroup index of a launch of one workgroup per row, folded
 * into x and y by `grid1d(rows, 1)` (`kernel.ts`).
 */
export const ROW_OF = /* wgsl */ `
fn row_of(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}
`;
