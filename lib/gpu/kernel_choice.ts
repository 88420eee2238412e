/**
 * Kernel choice: which kernel each op runs, for this adapter and these shapes. It is decided
 * here and nowhere else; ops ask these functions and never test the adapter themselves.
 *
 * - Row kernels (softmax, layer norm): one workgroup per row on GPUs, one row per invocation
 *   on CPU adapters ({@linkcode RowKernels}, {@linkcode laneRows}).
 * - Matrix products: the register-tiled vec4 kernel made for the layout when the dimensions it
 *   reads as vec4 allow it, its narrow form for thin outputs, the strided kernel otherwise
 *   ({@linkcode gemmKernel}, {@linkcode narrowTiles}, {@linkcode tiledWorkgroup},
 *   {@linkcode lanesNt}); the bias
 *   gradient summed inside the weight gradient's product except on CPU adapters
 *   ({@linkcode fusedColumnSums}).
 * - Attention: heads read in place from the `[B, T, NH·HS]` projections when the tiled kernels
 *   can index them ({@linkcode attendsInPlace}).
 *
 * @module
 */

import type { MatmulDims } from "../../kernels/matmul_ref.ts";
import { TILE } from "../../kernels/matmul.ts";
import type { AdapterReport, Gpu } from "./device.ts";

/**
 * How the row kernels (softmax, layer norm) spread a row: `"workgroup"` gives each row a
 * workgroup that reduces through workgroup memory (what a GPU wants); `"lanes"` gives each row
 * one invocation, with no barriers (what a CPU adapter such as lavapipe wants, since it runs
 * invocations as SIMD lanes and a barrier costs far more than the arithmetic of a short row).
 */
export type RowKernels = "workgroup" | "lanes";

/** `"lanes"` on fallback (CPU) adapters, `"workgroup"` elsewhere. */
export function defaultRowKernels(adapter: Pick<AdapterReport, "isFallbackAdapter">): RowKernels {
  return adapter.isFallbackAdapter ? "lanes" : "workgroup";
}

/**
 * Whether a row kernel over `t`'s rows of `rowLength` elements runs one row per invocation (the
 * `…_lanes` kernels): where the device prefers it (`Gpu.rowKernels`) and rows are whole vec4s.
 */
export function laneRows(t: { readonly gpu: Gpu }, rowLength: number): boolean {
  return t.gpu.rowKernels === "lanes" && rowLength % 4 === 0;
}

/** The kernels a matrix product can run on. */
export type GemmKernelName = "matmul_nn" | "matmul_nt" | "matmul_tn" | "matmul_strided";

/** What the matrix-product choice looks at: sizes, layout and whether a bias is added. */
export type GemmLayout = Pick<MatmulDims, "m" | "n" | "k" | "transA" | "transB"> & {
  /** A bias added to every row of `c` (only `matmul_nt` and `matmul_strided` add one). */
  bias?: unknown;
};

/**
 * The kernel `gemm` runs: the vec4 kernel of the layout when the dimensions it reads as vec4
 * are multiples of 4 (and K > 0), `matmul_strided` otherwise.
 */
export function gemmKernel(
  { m, n, k, transA = false, transB = false, bias }: GemmLayout,
): GemmKernelName {
  if (k === 0) return "matmul_strided";
  if (!transA && transB && k % 4 === 0) return "matmul_nt";
  if (bias) return "matmul_strided"; // only matmul_nt and matmul_strided add a bias
  if (!transA && !transB && k % 4 === 0 && n % 4 === 0) return "matmul_nn";
  if (transA && !transB && m % 4 === 0 && n % 4 === 0) return "matmul_tn";
  return "matmul_strided";
}

/**
 * Whether a weight gradient `doutᵀ · x` of this layout sums dout's columns (the bias gradient)
 * in the same dispatch (`GemmSpec.columnSums`): where `matmul_tn` runs it, but not on CPU
 * adapters. lavapipe keeps about 1 MiB of host memory per dispatch of the summing variant (its
 * four guarded stores; reproduced with plain WebGPU), which grew a CA-MTL-tiny run's RSS by
 * 37 MiB a step and halved its speed; there the column sum is a pass of its own.
 */
export function fusedColumnSums(
  gpu: { readonly adapter: Pick<AdapterReport, "isFallbackAdapter"> },
  layout: GemmLayout,
): boolean {
  return !gpu.adapter.isFallbackAdapter && gemmKernel(layout) === "matmul_tn";
}

/**
 * Whether an f32 `a · bᵀ` without bias runs on `matmul_nt_lanes` (`kernels/matmul_lanes.ts`):
 * short contractions (k ≤ 64, k % 4 = 0) into few columns (n ≤ 64), attention's per-head scores
 * at GLUE lengths, where `matmul_nt`'s 16×16 blocks would mostly cover nothing.
 */
export const lanesNt = (n: number, k: number): boolean => n <= 64 && k <= 64 && k % 4 === 0;

/**
 * Whether the vec4-store kernels (`nn`, `tn`) take their narrow form (16×8 blocks): when `c`
 * has at most 64 columns (attention's head size), so that 8 invocations still span a row.
 */
export const narrowTiles = (n: number): boolean => n <= 64;

/**
 * Workgroup shape of the tiled kernels: 8 × 4 invocations (a 64 × 128 tile of `c`), narrowed
 * in x when `c` has fewer columns than 8 blocks span, so that lanes are not spent on columns that
 * do not exist, and in y when it has few rows. `blockCols` is 16, or 8 for the narrow kernels.
 */
export function tiledWorkgroup(
  m: number,
  n: number,
  blockCols: number = TILE,
): { WX: number; WY: number } {
  const pow2 = (x: number) => 2 ** Math.ceil(Math.log2(Math.max(1, x)));
  const WX = Math.min(8, pow2(Math.ceil(n / blockCols)));
  const WY = Math.min(32 / WX, pow2(Math.ceil(m / TILE)));
  return { WX, WY };
}

/**
 * Whether sequences of `t` tokens with heads of `hs` can be attended in place (both % 4 = 0):
 * the tiled kernels then read each head where the projection wrote it.
 */
export function attendsInPlace(t: number, hs: number): boolean {
  return t % 4 === 0 && hs % 4 === 0;
}
