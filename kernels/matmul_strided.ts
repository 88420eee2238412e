/**
 * The general matmul kernel: `c[z] = alpha · A[z] · B[z] (+ bias)` where `A(m, k)` and `B(k, n)`
 * are read through element strides, so one kernel serves every transpose combination and every
 * size, including those the vec4 kernels of `matmul.ts` cannot take (K, M or N not a multiple
 * of 4, both operands transposed). `c` is `[M, N]`, row-major, and overwritten.
 *
 * | binding | holds | element of |
 * |---|---|---|
 * | `a` | `A(m, k)` | `z·sa + m·am + k·ak` |
 * | `b` | `B(k, n)` | `z·sb + k·bk + n·bn` |
 * | `bias` | `bias[n]`, added when `bias_on = 1` | `n` |
 * | `c` | `c(m, n)` | `z·sc + m·N + n` |
 *
 * Each invocation computes a 4×4 block from scalar loads (indices clamped at the edges), in
 * workgroups of `WX × WY` (overrides, default 8 × 8).
 *
 * @module
 */

import { ceilDiv, defineKernel } from "./kernel.ts";

/** Rows and columns of `c` that one invocation of `matmul_strided` computes. */
export const STRIDED_TILE = 4;

/** `c[z] = alpha · A[z] · B[z] (+ bias)` for operands given by element strides. */
export const matmulStrided = defineKernel({
  name: "matmul_strided",
  bindings: { a: "read", b: "read", bias: "read", c: "write" },
  uniforms: {
    m: "u32",
    n: "u32",
    k: "u32",
    batch: "u32",
    z0: "u32",
    sa: "u32",
    sb: "u32",
    sc: "u32",
    am: "u32",
    ak: "u32",
    bk: "u32",
    bn: "u32",
    alpha: "f32",
    bias_on: "u32",
  },
  overrides: { WX: 8, WY: 8 },
  grid: ({ m, n, batch }, { WX, WY }) => [
    ceilDiv(ceilDiv(n, STRIDED_TILE), WX),
    ceilDiv(ceilDiv(m, STRIDED_TILE), WY),
    batch,
  ],
  wgsl: /* wgsl */ `
@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let z = wid.z + u.z0;
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  // Clamped offsets of the four rows of A and four columns of B this invocation reads.
  let ra = z * u.sa + min(vec4u(row0) + vec4u(0u, 1u, 2u, 3u), vec4u(u.m - 1u)) * u.am;
  let cb = z * u.sb + min(vec4u(col0) + vec4u(0u, 1u, 2u, 3u), vec4u(u.n - 1u)) * u.bn;
  var acc = mat4x4f(); // column r: row row0 + r, columns col0..col0+3
  for (var k = 0u; k < u.k; k++) {
    let x = vec4f(a[ra.x + k * u.ak], a[ra.y + k * u.ak], a[ra.z + k * u.ak], a[ra.w + k * u.ak]);
    let y = vec4f(b[cb.x + k * u.bk], b[cb.y + k * u.bk], b[cb.z + k * u.bk], b[cb.w + k * u.bk]);
    acc += mat4x4f(y * x.x, y * x.y, y * x.z, y * x.w);
  }
  for (var s = 0u; s < 4u; s++) {
    let col = col0 + s;
    if (col >= u.n) { break; }
    var add = 0.0;
    if (u.bias_on != 0u) { add = bias[col]; }
    for (var r = 0u; r < 4u; r++) {
      let row = row0 + r;
      if (row < u.m) { c[z * u.sc + row * u.n + col] = u.alpha * acc[r][s] + add; }
    }
  }
}`,
});
