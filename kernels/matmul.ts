/**
 * Register-tiled matrix multiplication, `c = alpha · op(a) · op(b)` with `op` the identity or a
 * transpose, in three memory layouts that each read both operands as `vec4<f32>` along their
 * contiguous dimension (no transpose is ever materialized):
 *
 * | kernel | a | b | c | needs |
 * |---|---|---|---|---|
 * | `matmul_nn` | `[M, K]` | `[K, N]` | `[M, N]` (vec4 stores) | K % 4 = 0, N % 4 = 0 |
 * | `matmul_nt` | `[M, K]` | `[N, K]` | `[M, N]` (+ `bias[N]`) | K % 4 = 0 |
 * | `matmul_tn` | `[K, M]` | `[K, N]` | `[M, N]` (vec4 stores) | M % 4 = 0, N % 4 = 0 |
 *
 * Every operand may carry a leading batch: workgroup `z` is the batch index (plus `z0`, so a
 * caller can split more than 65535 batches over several dispatches), and `sa`, `sb`, `sc` are
 * the batch strides in elements of the binding (vec4 or f32); `sb = 0` shares `b` across the
 * batch. `matmul_nt` adds `bias[n]` when `bias_on = 1` (the `linear` forward); bind any f32
 * tensor as `bias` otherwise. Other layouts and unaligned sizes go to `matmul_strided`
 * (`matmul_strided.ts`). Outputs are overwritten.
 *
 * Tiling, chosen by measuring variants on lavapipe at 1024³ (CPU time): every invocation
 * computes a 16×16 block of `c` held in sixteen `mat4x4<f32>` accumulators, and a workgroup of
 * `WX × WY` invocations (overrides, default 8 × 4) covers a `16·WY × 16·WX` tile. lavapipe runs
 * 8 invocations as one SIMD loop on a CPU, and every buffer or shared-memory load there is a
 * per-lane scalar loop, so what pays is the number of multiply-adds per loaded value (16 here)
 * rather than reuse across invocations: workgroup-shared tiles measured 30% slower than
 * registers alone, 8×8 register tiles about 30% slower, 32×16 tiles 10% slower (spills), and
 * unrolling k by 8 25% slower. With `WX = 8` the 8 lanes of a SIMD group share their rows of
 * `a`, whose loads then have one address for all lanes and cost far less; `WX = 4` measured 25–35%
 * slower and `WX = 2` six times slower, so callers narrow `WX` only when `c` has fewer than 128
 * columns (`tiledWorkgroup` in `lib/gpu/kernel_choice.ts`).
 *
 * Edges: load indices are clamped to the last row or column, so any M, N (and, where the
 * layout allows, K) is valid; out-of-range results are computed but never stored.
 *
 * See https://pytorch.org/docs/stable/generated/torch.matmul.html for the semantics.
 *
 * @module
 */

import { ceilDiv, defineKernel, type KernelCost, VEC4_READ, VEC4_WRITE } from "./kernel.ts";
import { range } from "./_wgsl.ts";

/** Rows and columns of `c` that one invocation of a tiled kernel computes. */
export const TILE = 16;

/** Uniforms of the tiled kernels (and of `matmul_nt_lanes`), in struct order. */
export const TILED_UNIFORMS = {
  m: "u32",
  n: "u32",
  k: "u32",
  batch: "u32",
  z0: "u32",
  sa: "u32",
  sb: "u32",
  sc: "u32",
  nh: "u32",
  sa2: "u32",
  sb2: "u32",
  sc2: "u32",
  lda: "u32",
  ldb: "u32",
  ldc: "u32",
  alpha: "f32",
} as const;

/** Uniforms of the tiled kernels (`bias_on` only for `matmul_nt`). */
export type TiledParams = { [K in keyof typeof TILED_UNIFORMS]: number };

// Four rows of `a` (or `b`) starting at vec4 index `p`, `step` apart, each clamped to `last`,
// read at column block `k`: the columns of the returned matrix are the rows.
const ROWS4 = (name: string) => /* wgsl */ `
fn rows4_${name}(p: u32, step: u32, last: u32, k: u32) -> mat4x4f {
  return mat4x4f(${name}[min(p, last) + k], ${name}[min(p + step, last) + k],
    ${name}[min(p + 2u * step, last) + k], ${name}[min(p + 3u * step, last) + k]);
}
`;

// Stores one 4×4 block whose column r is row `row + r` of c at vec4 column `col`.
const PUT4 = /* wgsl */ `
fn put4(m: mat4x4f, base: u32, row: u32, col: u32, n4: u32) {
  if (col >= n4) { return; }
  for (var r = 0u; r < 4u; r++) {
    if (row + r < u.m) { c[base + (row + r) * u.ldc + col] = u.alpha * m[r]; }
  }
}
`;

// Product z's first element of a, b and c: batch zb = z / nh strided by sa, sb, sc, and within
// it product zh = z % nh strided by sa2, sb2, sc2 (attention's heads, read in place).
export const OFFSETS = /* wgsl */ `
fn offsets(z: u32) -> vec3u {
  let zb = z / u.nh;
  let zh = z % u.nh;
  return vec3u(zb * u.sa + zh * u.sa2, zb * u.sb + zh * u.sb2, zb * u.sc + zh * u.sc2);
}
`;

// The vec4-store kernels (`nn`, `tn`) are written for `S` vec4 columns per invocation: S = 4 is
// the 16×16 block; S = 2 (`…_narrow`, a 16×8 block) lets 8 lanes of a SIMD group share their
// rows of `a` when c has only 64 columns (attention's head size), where S = 4 would leave the
// workgroup 4 wide. On lavapipe the narrow kernels ran attention's [32 × 128×128]·[128×64]
// products about 1.5–2× faster than the 4-wide 16×16 kernels.

/** `let nJ = min(col0 + J, n4 - 1u);` for J < S: the clamped vec4 columns. */
function clampedColumns(S: number): string {
  return range(S).map((j) => `  let n${j} = min(col0 + ${j}u, n4 - 1u);`).join("\n");
}

/** `var cIJ = mat4x4f();` for four row groups I and S column groups J. */
function accumulators(S: number): string {
  return range(4).map((i) => "  " + range(S).map((j) => `var c${i}${j} = mat4x4f();`).join(" "))
    .join("\n");
}

/** Stores every block: block IJ covers rows row0 + 4I.. at vec4 column col0 + J. */
function stores(S: number): string {
  return range(4).map((i) =>
    "  " + range(S).map((j) => `put4(c${i}${j}, pc, row0 + ${4 * i}u, col0 + ${j}u, n4);`)
      .join(" ")
  ).join("\n");
}

/** One row-group step: `aI` loaded by `load`, then `cIJ += update(aI, bJ)` for every J. */
function rowGroup(S: number, i: number, load: string, update: (a: string, b: string) => string) {
  const adds = range(S).map((j) => `c${i}${j} += ${update(`a${i}`, `b${j}`)};`).join(" ");
  return `    let a${i} = ${load};\n    ${adds}`;
}

const tiledGrid =
  (S: number) =>
  ({ m, n, batch }: { m: number; n: number; batch: number }, { WX, WY }: {
    WX: number;
    WY: number;
  }): [number, number, number] => [
    ceilDiv(ceilDiv(n, 4 * S), WX),
    ceilDiv(ceilDiv(m, TILE), WY),
    batch,
  ];

/** The `matmul_nn` body for S vec4 columns per invocation. */
function nnBody(S: number): string {
  const bLoads = range(S).map((j) => `    let b${j} = krows4(pb + n${j}, u.ldb);`).join("\n");
  const groups = range(4).map((i) =>
    rowGroup(
      S,
      i,
      `rows4_a(pa${i ? ` + ${4 * i}u * u.lda` : ""}, u.lda, last, k)`,
      (a, b) => `${b} * ${a}`,
    )
  ).join("\n");
  return /* wgsl */ `${ROWS4("a")}${PUT4}${OFFSETS}
// Four consecutive rows of b from vec4 index p (stride ld): the columns are the rows.
fn krows4(p: u32, ld: u32) -> mat4x4f {
  return mat4x4f(b[p], b[p + ld], b[p + 2u * ld], b[p + 3u * ld]);
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let z = wid.z + u.z0;
  let k4 = u.k / 4u;
  let n4 = u.n / 4u;
  let row0 = gid.y * 16u;
  let col0 = gid.x * ${S}u;
  let o = offsets(z);
  let pa = o.x + row0 * u.lda;
  let last = o.x + (u.m - 1u) * u.lda;
${clampedColumns(S)}
  // cIJ: rows 4I..4I+3 (its columns) by vec4 column col0 + J.
${accumulators(S)}
  for (var k = 0u; k < k4; k++) {
    let pb = o.y + 4u * k * u.ldb;
${bLoads}
    // (bJ · aI)[r] = Σ_k a[r][k] · b[k][:] is row r of the block.
${groups}
  }
  let pc = o.z;
${stores(S)}
}`;
}

/** The `matmul_tn` body for S vec4 columns per invocation. */
function tnBody(S: number): string {
  const bLoads = range(S).map((j) => `    let b${j} = b[pb + n${j}];`).join("\n");
  const groups = range(4).map((i) => rowGroup(S, i, `a[pa + m${i}]`, (a, b) => `outer(${a}, ${b})`))
    .join("\n");
  return /* wgsl */ `${PUT4}${OFFSETS}
// The outer product x ⊗ y as a matrix whose column r is x[r] · y.
fn outer(x: vec4f, y: vec4f) -> mat4x4f {
  return mat4x4f(y * x.x, y * x.y, y * x.z, y * x.w);
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let z = wid.z + u.z0;
  let m4 = u.m / 4u;
  let n4 = u.n / 4u;
  let row0 = gid.y * 16u;
  let col0 = gid.x * ${S}u;
  let o = offsets(z);
${range(4).map((i) => `  let m${i} = min(row0 / 4u + ${i}u, m4 - 1u);`).join("\n")}
${clampedColumns(S)}
${accumulators(S)}
  // With ASUM, the invocations of the first column block also sum their rows of aᵀ.
  var s0 = vec4f(); var s1 = vec4f(); var s2 = vec4f(); var s3 = vec4f();
  for (var k = 0u; k < u.k; k++) {
    let pa = o.x + k * u.lda;
    let pb = o.y + k * u.ldb;
${bLoads}
${groups}
    if (ASUM != 0u && gid.x == 0u) { s0 += a0; s1 += a1; s2 += a2; s3 += a3; }
  }
  let pc = o.z;
${stores(S)}
  if (ASUM != 0u && gid.x == 0u) {
    let r0 = row0 / 4u;
    if (r0 < m4) { asum[z * m4 + r0] = s0; }
    if (r0 + 1u < m4) { asum[z * m4 + r0 + 1u] = s1; }
    if (r0 + 2u < m4) { asum[z * m4 + r0 + 2u] = s2; }
    if (r0 + 3u < m4) { asum[z * m4 + r0 + 3u] = s3; }
  }
}`;
}

/** `matmul_nn` for S vec4 columns per invocation. */
function nnKernel(name: string, S: number) {
  return defineKernel({
    name,
    bindings: { a: VEC4_READ, b: VEC4_READ, c: VEC4_WRITE },
    uniforms: TILED_UNIFORMS,
    overrides: { WX: 8, WY: 4 },
    grid: tiledGrid(S),
    wgsl: nnBody(S),
  });
}

/**
 * `c[z] = alpha · a[z] · b[z]` with a `[M, K]`, b `[K, N]`, both row-major, K and N multiples
 * of 4.
 */
export const matmulNn = nnKernel("matmul_nn", 4);

/** `matmul_nn` with a 16×8 block per invocation, for N ≤ 64. */
export const matmulNnNarrow = nnKernel("matmul_nn_narrow", 2);

/**
 * `c[z] = alpha · a[z] · b[z]ᵀ (+ bias)` with a `[M, K]`, b `[N, K]` (PyTorch's `[out, in]`
 * weight layout), K a multiple of 4; any N.
 */
export const matmulNt = defineKernel({
  name: "matmul_nt",
  bindings: { a: VEC4_READ, b: VEC4_READ, bias: "read", c: "write" },
  uniforms: { ...TILED_UNIFORMS, bias_on: "u32" },
  overrides: { WX: 8, WY: 4 },
  grid: ({ m, n, batch }, { WX, WY }) => [
    ceilDiv(ceilDiv(n, TILE), WX),
    ceilDiv(ceilDiv(m, TILE), WY),
    batch,
  ],
  wgsl: /* wgsl */ `${ROWS4("a")}${ROWS4("b")}${OFFSETS}
// Stores one 4×4 block whose column r is row \`row + r\` of c at columns col..col+3.
fn put(m: mat4x4f, base: u32, row: u32, col: u32) {
  for (var s = 0u; s < 4u; s++) {
    if (col + s >= u.n) { return; }
    var add = 0.0;
    if (u.bias_on != 0u) { add = bias[col + s]; }
    for (var r = 0u; r < 4u; r++) {
      if (row + r < u.m) { c[base + (row + r) * u.ldc + col + s] = u.alpha * m[r][s] + add; }
    }
  }
}

@compute @workgroup_size(WX, WY)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let z = wid.z + u.z0;
  let k4 = u.k / 4u;
  let row0 = gid.y * 16u;
  let col0 = gid.x * 16u;
  let o = offsets(z);
  let pa = o.x + row0 * u.lda;
  let lasta = o.x + (u.m - 1u) * u.lda;
  let pb = o.y + col0 * u.ldb;
  let lastb = o.y + (u.n - 1u) * u.ldb;
  // cIJ: rows 4I..4I+3 (its columns) by columns 4J..4J+3 (vec4 components).
  var c00 = mat4x4f(); var c01 = mat4x4f(); var c02 = mat4x4f(); var c03 = mat4x4f();
  var c10 = mat4x4f(); var c11 = mat4x4f(); var c12 = mat4x4f(); var c13 = mat4x4f();
  var c20 = mat4x4f(); var c21 = mat4x4f(); var c22 = mat4x4f(); var c23 = mat4x4f();
  var c30 = mat4x4f(); var c31 = mat4x4f(); var c32 = mat4x4f(); var c33 = mat4x4f();
  for (var k = 0u; k < k4; k++) {
    // (bJᵀ · aI)[r][s] = dot(b row s, a row r).
    let b0 = transpose(rows4_b(pb, u.ldb, lastb, k));
    let b1 = transpose(rows4_b(pb + 4u * u.ldb, u.ldb, lastb, k));
    let b2 = transpose(rows4_b(pb + 8u * u.ldb, u.ldb, lastb, k));
    let b3 = transpose(rows4_b(pb + 12u * u.ldb, u.ldb, lastb, k));
    let a0 = rows4_a(pa, u.lda, lasta, k);
    c00 += b0 * a0; c01 += b1 * a0; c02 += b2 * a0; c03 += b3 * a0;
    let a1 = rows4_a(pa + 4u * u.lda, u.lda, lasta, k);
    c10 += b0 * a1; c11 += b1 * a1; c12 += b2 * a1; c13 += b3 * a1;
    let a2 = rows4_a(pa + 8u * u.lda, u.lda, lasta, k);
    c20 += b0 * a2; c21 += b1 * a2; c22 += b2 * a2; c23 += b3 * a2;
    let a3 = rows4_a(pa + 12u * u.lda, u.lda, lasta, k);
    c30 += b0 * a3; c31 += b1 * a3; c32 += b2 * a3; c33 += b3 * a3;
  }
  let pc = o.z;
  put(c00, pc, row0, col0); put(c01, pc, row0, col0 + 4u);
  put(c02, pc, row0, col0 + 8u); put(c03, pc, row0, col0 + 12u);
  put(c10, pc, row0 + 4u, col0); put(c11, pc, row0 + 4u, col0 + 4u);
  put(c12, pc, row0 + 4u, col0 + 8u); put(c13, pc, row0 + 4u, col0 + 12u);
  put(c20, pc, row0 + 8u, col0); put(c21, pc, row0 + 8u, col0 + 4u);
  put(c22, pc, row0 + 8u, col0 + 8u); put(c23, pc, row0 + 8u, col0 + 12u);
  put(c30, pc, row0 + 12u, col0); put(c31, pc, row0 + 12u, col0 + 4u);
  put(c32, pc, row0 + 12u, col0 + 8u); put(c33, pc, row0 + 12u, col0 + 12u);
}`,
});

/** `matmul_tn` for S vec4 columns per invocation. */
function tnKernel(name: string, S: number) {
  return defineKernel({
    name,
    bindings: { a: VEC4_READ, b: VEC4_READ, c: VEC4_WRITE, asum: VEC4_WRITE },
    uniforms: TILED_UNIFORMS,
    overrides: { WX: 8, WY: 4, ASUM: 0 },
    grid: tiledGrid(S),
    wgsl: tnBody(S),
  });
}

/**
 * `c[z] = alpha · a[z]ᵀ · b[z]` with a `[K, M]`, b `[K, N]`, M and N multiples of 4; any K.
 * The weight gradient `doutᵀ · x` of `linear`, summed over every row of the batch. With the
 * override `ASUM = 1` it also writes `asum[z, m] = Σ_k a[z][k, m]` (unscaled): the bias gradient
 * `Σ dout` of the same backward, without a pass of its own; otherwise bind any buffer as `asum`.
 */
export const matmulTn = tnKernel("matmul_tn", 4);

/** `matmul_tn` with a 16×8 block per invocation, for N ≤ 64. */
export const matmulTnNarrow = tnKernel("matmul_tn_narrow", 2);

/** Work of one batched matmul: 2·M·N·K flops per batch, and each operand read once. */
export function matmulCost(
  { m, n, k, batch = 1 }: { m: number; n: number; k: number; batch?: number },
): KernelCost {
  return { flops: 2 * batch * m * n * k, bytes: 4 * batch * (m * k + k * n + m * n) };
}
