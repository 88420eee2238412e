/**
 * `matmul`: batched `alpha · op(a) · op(b)` with gradients, on `gemm` (`gemm.ts`). Under
 * autocast (`--fp16`) the operands are rounded to f16 and the f16 twins of the tiled kernels
 * run, accumulating in f32.
 *
 * @module
 */

import { isAutocast } from "../autograd/autocast.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, shapeSize, type Tensor } from "../autograd/tensor.ts";
import { castTensor } from "./cast.ts";
import { reduceToShape } from "./elementwise.ts";
import { gemm } from "./gemm.ts";

/** Options of {@linkcode matmul}. */
export interface MatmulOptions {
  /** `a` is `[..., K, M]` and used transposed. Default false. */
  transA?: boolean;
  /** `b` is `[..., N, K]` and used transposed. Default false. */
  transB?: boolean;
  /** Scale of the product. Default 1. */
  alpha?: number;
}

interface Geometry {
  batchShape: number[];
  batch: number;
  m: number;
  n: number;
  k: number;
  /** `b` is 2-D and shared by every product of a batched `a`. */
  shared: boolean;
}

interface Layout {
  transA: boolean;
  transB: boolean;
  alpha: number;
  g: Geometry;
}

interface Saved extends Layout, Record<string, unknown> {
  /** The operands as the products read them: f16 copies under autocast. */
  a: Tensor;
  b: Tensor;
  /** Autocast was on: backward rounds dout to f16 too. */
  half: boolean;
}

const ACTION = `run "matmul"`;
const show = (t: Tensor) => `[${t.shape.join(", ")}]`;

function geometry(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Geometry {
  assertDType(a, "f32", ACTION, "a");
  assertDType(b, "f32", ACTION, "b");
  for (const [name, t] of [["a", a], ["b", b]] as const) {
    if (t.shape.length < 2) {
      throw new TypeError(`Cannot ${ACTION}: "${name}" is ${show(t)}, expected at least 2 dims`);
    }
  }
  const ra = a.shape.length, rb = b.shape.length;
  const [m, ka] = transA ? [a.shape[ra - 1], a.shape[ra - 2]] : [a.shape[ra - 2], a.shape[ra - 1]];
  const [kb, n] = transB ? [b.shape[rb - 1], b.shape[rb - 2]] : [b.shape[rb - 2], b.shape[rb - 1]];
  if (ka !== kb) {
    const flags = [transA ? "transA" : "", transB ? "transB" : ""].filter((s) => s).join(", ");
    throw new TypeError(
      `Cannot ${ACTION}: inner dimensions differ: a is ${show(a)}, b is ${show(b)}` +
        (flags ? ` (${flags})` : ""),
    );
  }
  const batchShape = a.shape.slice(0, ra - 2);
  const shared = rb === 2 && ra > 2;
  if (!shared && (rb !== ra || b.shape.slice(0, rb - 2).some((d, i) => d !== batchShape[i]))) {
    throw new TypeError(
      `Cannot ${ACTION}: batch dimensions differ: a is ${show(a)}, b is ${show(b)}; ` +
        `expected equal batch dimensions or a 2-D b`,
    );
  }
  return { batchShape, batch: shapeSize(batchShape), m, n, k: ka, shared };
}

/**
 * The products of every batch: with a shared `b` and an untransposed `a`, the batch folds
 * into the rows of `a` and `c`, so one large product runs instead of many small ones.
 */
function product(a: Tensor, b: Tensor, { transA, transB, alpha, g }: Layout): Tensor {
  const shape = [...g.batchShape, g.m, g.n];
  if (g.shared && !transA) {
    return gemm({ a, b }, { batch: 1, m: g.batch * g.m, n: g.n, k: g.k, transB, alpha, shape });
  }
  const { batch, m, n, k } = g;
  return gemm({ a, b }, { batch, m, n, k, transA, transB, alpha, bBatched: !g.shared, shape });
}

/**
 * Batched matrix product `alpha · op(a) · op(b)`, where `op` transposes the last two
 * dimensions when `transA`/`transB` is set. Under autocast the operands (and, in backward, the
 * output gradient) are rounded to f16 and the products accumulate in f32; results and
 * gradients are f32 either way.
 *
 * @param inputs `a` `[..., M, K]` (`[..., K, M]` with transA); `b` `[..., K, N]` (`[..., N, K]`
 *   with transB), with the same batch dimensions as `a` or 2-D (shared by the whole batch).
 * @param options `transA`, `transB` (default false), `alpha` (default 1).
 * @returns `[..., M, N]`.
 * @throws {TypeError} on i32 inputs, fewer than 2 dimensions, or mismatched inner or batch
 *   dimensions.
 * @example Attention scores and context
 * ```ts ignore
 * const scores = matmul({ a: q, b: k }, { transB: true, alpha: 1 / Math.sqrt(HS) }); // [B, NH, T, T]
 * const ctx = matmul({ a: probs, b: v }); // [B, NH, T, HS]
 * ```
 */
export const matmul: Op<{ a: Tensor; b: Tensor }, MatmulOptions> = defineOp<
  { a: Tensor; b: Tensor },
  MatmulOptions,
  Saved
>({
  name: "matmul",
  forward(ctx, { a, b }, { transA = false, transB = false, alpha = 1 }) {
    const g = geometry(a, b, transA, transB);
    const half = isAutocast(a.gpu);
    if (half) {
      a = castTensor(a, "f16");
      b = castTensor(b, "f16");
    }
    ctx.save({ a, b, transA, transB, alpha, g, half });
    return product(a, b, { transA, transB, alpha, g });
  },
  backward(ctx, grad) {
    const { a, b, transA, transB, alpha, g, half } = ctx.saved;
    const dout = half ? castTensor(grad, "f16") : grad;
    const { batch, m, n, k, shared } = g;
    const fold = shared && !transA; // rows of every product stacked: one big product
    const rows = fold ? batch * m : m, count = fold ? 1 : batch;
    let da: Tensor | undefined, db: Tensor | undefined;
    if (ctx.needsGrad.a) {
      // op(A)' = alpha · dC · op(B)ᵀ; A itself is its transpose when transA.
      da = transA
        ? gemm({ a: b, b: dout }, {
          batch,
          m: k,
          n: m,
          k: n,
          transA: transB,
          transB: true,
          alpha,
          aBatched: !shared,
          shape: a.shape,
        })
        : gemm({ a: dout, b }, {
          batch: count,
          m: rows,
          n: k,
          k: n,
          transB: !transB,
          alpha,
          bBatched: !shared,
          shape: a.shape,
        });
    }
    if (ctx.needsGrad.b) {
      // op(B)' = alpha · op(A)ᵀ · dC, summed over the batch when b is shared.
      const spec = transB
        ? { m: n, n: k, transA: true, transB: transA }
        : { m: k, n, transA: !transA, transB: false };
      const [x, y] = transB ? [dout, a] : [a, dout];
      if (fold || !shared) {
        db = gemm({ a: x, b: y }, { ...spec, batch: count, k: rows, alpha, shape: b.shape });
      } else {
        const each = gemm({ a: x, b: y }, {
          ...spec,
          batch,
          k: m,
          alpha,
          shape: [batch, ...b.shape],
        });
        db = reduceToShape(each, b.shape);
      }
    }
    return { a: da, b: db };
  },
});
