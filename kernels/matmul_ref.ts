/**
 * Float64 references for `matmul` and `linear`: the specification that the kernels of
 * `matmul.ts`, `matmul_strided.ts` and `matmul_bias.ts` must match. Plain loops over row-major
 * arrays; transposed operands are read in place.
 *
 * @module
 */

import { columnSumRef } from "./matmul_bias.ts";

/** Sizes and layout of a batched matmul `c[z] = alpha · op(a[z]) · op(b[z])`. */
export interface MatmulDims {
  /** Number of products (1 for plain 2-D). */
  batch: number;
  /** Rows of `op(a)` and of `c`. */
  m: number;
  /** Columns of `op(b)` and of `c`. */
  n: number;
  /** Columns of `op(a)`, rows of `op(b)`: the summed dimension. */
  k: number;
  /** `a` is stored `[K, M]` instead of `[M, K]`. */
  transA?: boolean;
  /** `b` is stored `[N, K]` instead of `[K, N]`. */
  transB?: boolean;
  /** Scale of the product. Default 1. */
  alpha?: number;
  /** False when one 2-D `b` is shared by every product. Default true. */
  bBatched?: boolean;
}

function at(trans: boolean, rows: number, cols: number, i: number, j: number): number {
  // Element (i, j) of a rows×cols operand stored row-major, or transposed.
  return trans ? j * rows + i : i * cols + j;
}

/**
 * Float64 reference of `matmul`: returns `c` as `[batch, M, N]` row-major, computed with plain
 * loops. Compare a kernel's f32 output with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matmulRef } from "./matmul_ref.ts";
 * const a = Float64Array.of(1, 2, 3, 4, 5, 6); // [2, 3]
 * const b = Float64Array.of(1, 0, 0, 1, 1, 1); // [3, 2]
 * const c = matmulRef({ a, b }, { batch: 1, m: 2, n: 2, k: 3 });
 * assert.deepEqual([...c], [4, 5, 10, 11]);
 * ```
 */
export function matmulRef(
  { a, b }: { a: Float64Array; b: Float64Array },
  { batch, m, n, k, transA = false, transB = false, alpha = 1, bBatched = true }: MatmulDims,
): Float64Array {
  const c = new Float64Array(batch * m * n);
  for (let z = 0; z < batch; z++) {
    const oa = z * m * k, ob = bBatched ? z * k * n : 0, oc = z * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          s += a[oa + at(transA, m, k, i, p)] * b[ob + at(transB, k, n, p, j)];
        }
        c[oc + i * n + j] = alpha * s;
      }
    }
  }
  return c;
}

/**
 * Reference backward: gradients of `a` and `b` (in their stored layouts) from `dc` `[batch, M,
 * N]`; a shared `b` gets the sum over the batch.
 */
export function matmulBackwardRef(
  { a, b, dc }: { a: Float64Array; b: Float64Array; dc: Float64Array },
  { batch, m, n, k, transA = false, transB = false, alpha = 1, bBatched = true }: MatmulDims,
): { da: Float64Array; db: Float64Array } {
  const da = new Float64Array(a.length), db = new Float64Array(b.length);
  for (let z = 0; z < batch; z++) {
    const oa = z * m * k, ob = bBatched ? z * k * n : 0, oc = z * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        const g = alpha * dc[oc + i * n + j];
        for (let p = 0; p < k; p++) {
          const ia = oa + at(transA, m, k, i, p), ib = ob + at(transB, k, n, p, j);
          da[ia] += g * b[ib];
          db[ib] += g * a[ia];
        }
      }
    }
  }
  return { da, db };
}

/** Sizes of `linear`: `rows` = product of the leading dimensions of `x`. */
export interface LinearDims {
  rows: number;
  inFeatures: number;
  outFeatures: number;
}

/** Reference `linear`: `y = x · weightᵀ + bias`, x `[rows, IN]`, weight `[OUT, IN]`. */
export function linearRef(
  { x, weight, bias }: { x: Float64Array; weight: Float64Array; bias?: Float64Array },
  { rows, inFeatures, outFeatures }: LinearDims,
): Float64Array {
  const y = matmulRef({ a: x, b: weight }, {
    batch: 1,
    m: rows,
    n: outFeatures,
    k: inFeatures,
    transB: true,
  });
  if (bias) {
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outFeatures; o++) y[r * outFeatures + o] += bias[o];
    }
  }
  return y;
}

/** Reference `linear` backward: `dx = dy · W`, `dW = dyᵀ · x`, `db = Σ_rows dy`. */
export function linearBackwardRef(
  { x, weight, dy }: { x: Float64Array; weight: Float64Array; dy: Float64Array },
  { rows, inFeatures, outFeatures }: LinearDims,
): { dx: Float64Array; dweight: Float64Array; dbias: Float64Array } {
  const { da, db } = matmulBackwardRef({ a: x, b: weight, dc: dy }, {
    batch: 1,
    m: rows,
    n: outFeatures,
    k: inFeatures,
    transB: true,
  });
  return { dx: da, dweight: db, dbias: columnSumRef(dy, rows, outFeatures) };
}
