/**
 * `matmul_nt_lanes_k<K>`: `c[z] = alpha · a[z] · b[z]ᵀ` for many small products with a short
 * contraction, attention's scores `q · kᵀ` per head (`[T, HS] · [T, HS]ᵀ`, HS ≤ 64), laid out
 * and strided as `matmul_nt` (`kernels/matmul.ts`) without its bias.
 *
 * Each invocation holds four whole rows of `a` (K a compile-time constant, so the rows live in
 * registers and the loop over K is unrolled) and walks the columns of `c` four at a time, loading
 * four rows of `b` per step. A workgroup is one SIMD group of 8 lanes (32 rows of `c`), so a
 * product of T = 32 fills it, where the 16×16 blocks of `matmul_nt` leave most of a workgroup's
 * lanes on rows and columns that do not exist. On lavapipe it ran the demo's per-head scores
 * (384 products of `[32, 32] · [32, 32]ᵀ`) 2.4× faster and the classifier's (64 of
 * `[48, 64] · [48, 64]ᵀ`) 1.5× faster than `matmul_nt`; at T = 128 the 16×16 blocks win again
 * (`lanesNt` in `lib/gpu/kernel_choice.ts` chooses).
 *
 * @module
 */

import { ceilDiv, defineKernel, type Kernel, VEC4_READ } from "./kernel.ts";
import { range } from "./_wgsl.ts";
import { OFFSETS, TILED_UNIFORMS } from "./matmul.ts";

/** Rows of `c` per invocation. */
const ROWS = 4;
/** Invocations per workgroup: one SIMD group of lavapipe's 256-bit vectors. */
const LANES = 8;

/** The kernel for contraction length `k`, built on first use. */
export type LanesNtKernel = Kernel<
  typeof TILED_UNIFORMS,
  Record<"a" | "b" | "c", typeof VEC4_READ | "write">
>;

function build(k: number): LanesNtKernel {
  const k4 = k / 4;
  const rowLoads = range(ROWS).flatMap((r) =>
    range(k4).map((c) => `let x${r}_${c} = a[pa${r} + ${c}u];`)
  ).join("\n  ");
  const steps = range(k4).map((c) => {
    const w = range(4).map((j) => `let w${j} = b[pb${j} + ${c}u];`).join(" ");
    const adds = range(ROWS).map((r) =>
      `acc${r} += vec4f(dot(x${r}_${c}, w0), dot(x${r}_${c}, w1), dot(x${r}_${c}, w2), ` +
      `dot(x${r}_${c}, w3));`
    ).join("\n      ");
    return `    {\n      ${w}\n      ${adds}\n    }`;
  }).join("\n");
  return defineKernel({
    name: `matmul_nt_lanes_k${k}`,
    bindings: { a: VEC4_READ, b: VEC4_READ, c: "write" },
    uniforms: TILED_UNIFORMS,
    grid: ({ m, batch }) => [ceilDiv(m, ROWS * LANES), 1, batch],
    wgsl: /* wgsl */ `
${OFFSETS}
fn put(acc: vec4f, base: u32, row: u32, col: u32) {
  if (row >= u.m) { return; }
  for (var s = 0u; s < 4u; s++) {
    if (col + s < u.n) { c[base + row * u.ldc + col + s] = u.alpha * acc[s]; }
  }
}

@compute @workgroup_size(${LANES})
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let o = offsets(wid.z + u.z0);
  let row0 = gid.x * ${ROWS}u;
  let last = u.m - 1u;
  ${range(ROWS).map((r) => `let pa${r} = o.x + min(row0 + ${r}u, last) * u.lda;`).join("\n  ")}
  ${rowLoads}
  for (var n = 0u; n < u.n; n += 4u) {
    ${range(4).map((j) => `let pb${j} = o.y + min(n + ${j}u, u.n - 1u) * u.ldb;`).join("\n    ")}
    ${range(ROWS).map((r) => `var acc${r} = vec4f();`).join(" ")}
${steps}
    ${range(ROWS).map((r) => `put(acc${r}, o.z, row0 + ${r}u, n);`).join("\n    ")}
  }
}`,
  }) as unknown as LanesNtKernel;
}

const built = new Map<number, LanesNtKernel>();

/** The lanes kernel for contraction length `k` (a multiple of 4, at most 64). */
export function matmulNtLanes(k: number): LanesNtKernel {
  if (k % 4 !== 0 || k < 4 || k > 64) {
    throw new RangeError(
      `Cannot build matmul_nt_lanes for k = ${k}: it needs 4 ≤ k ≤ 64, k % 4 = 0`,
    );
  }
  let kernel = built.get(k);
  if (!kernel) built.set(k, kernel = build(k));
  return kernel;
}
