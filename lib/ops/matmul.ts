/**
 * `matmul`: batched `alpha · op(a) · op(b)` with gradients, and `gemm`, the kernel selection
 * under it (also used by `linear`). Transposed operands are read in place by a kernel made for
 * that layout; nothing is transposed in memory. Under autocast (`--fp16`) the operands are
 * rounded to f16 and the f16 twins of the tiled kernels run, accumulating in f32.
 *
 * @module
 */

import { type BindingSpec, type Kernel, MAX_GRID } from "../../kernels/_kernel.ts";
import {
  matmulNn,
  matmulNnNarrow,
  matmulNt,
  matmulTn,
  matmulTnNarrow,
  TILE,
} from "../../kernels/matmul.ts";
import {
  matmulNnF16,
  matmulNnNarrowF16,
  matmulNtF16,
  matmulTnF16,
  matmulTnNarrowF16,
  type TiledBiasUniforms,
  type TiledUniforms,
} from "../../kernels/matmul_f16.ts";
import { matmulStrided } from "../../kernels/matmul_strided.ts";
import { isAutocast } from "../autograd/autocast.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, shapeSize, type Tensor } from "../autograd/tensor.ts";
import { dispatch, empty } from "./_dispatch.ts";
import { castTensor } from "./cast.ts";
import { reduceToShape } from "./elementwise.ts";

/** Layout and sizes of one (batched) product for {@linkcode gemm}. */
export interface GemmSpec {
  /** Number of products; `c` is `[batch, M, N]` in memory. */
  batch: number;
  m: number;
  n: number;
  k: number;
  /** `a` is stored `[K, M]` (else `[M, K]`). */
  transA?: boolean;
  /** `b` is stored `[N, K]` (else `[K, N]`). */
  transB?: boolean;
  /** Default 1. */
  alpha?: number;
  /** False when one `a` serves every product. Default true. */
  aBatched?: boolean;
  /** False when one `b` serves every product. Default true. */
  bBatched?: boolean;
  /** `[N]`, added to every row of `c`. */
  bias?: Tensor;
  /**
   * `[batch, M]` (or `[M]`), written with `Σ_k op(a)[m, k]` per batch: the bias gradient that a
   * weight gradient `doutᵀ · x` can sum on the way. Only for the `matmul_tn` layout
   * ({@linkcode gemmKernel}).
   */
  columnSums?: Tensor;
  /**
   * Where each operand's products and rows lie, for operands read in place (attention's heads
   * in a `[B, T, NH·HS]` tensor); default: contiguous products of contiguous rows. Needs one of
   * the tiled vec4 kernels ({@linkcode gemmKernel} other than `matmul_strided`); `c` is still
   * returned with `shape`, so its strides must describe a tensor of that size.
   */
  strides?: GemmStrides;
  /** Shape of the returned tensor (its size must be `batch·M·N`). */
  shape: readonly number[];
}

/**
 * One operand's layout, in elements: product `z` (of `nh` per group) starts at
 * `⌊z / nh⌋·group + (z mod nh)·inner`, and its rows (as stored) are `ld` apart. All multiples of
 * 4 (the tiled kernels read vec4s), except `c` of `matmul_nt`.
 */
export interface OperandStrides {
  group: number;
  inner: number;
  ld: number;
}

/** {@linkcode GemmSpec.strides}: products per group, and the layout of a, b and c. */
export interface GemmStrides {
  nh: number;
  a: OperandStrides;
  b: OperandStrides;
  c: OperandStrides;
}

/**
 * The kernel {@linkcode gemm} runs for `spec`: the vec4 kernel of the layout when the
 * dimensions it reads as vec4 are multiples of 4 (and K > 0), `matmul_strided` otherwise.
 */
export function gemmKernel(
  { m, n, k, transA = false, transB = false, bias }: Omit<GemmSpec, "shape" | "batch">,
): "matmul_nn" | "matmul_nt" | "matmul_tn" | "matmul_strided" {
  if (k === 0) return "matmul_strided";
  if (!transA && transB && k % 4 === 0) return "matmul_nt";
  if (bias) return "matmul_strided"; // only matmul_nt and matmul_strided add a bias
  if (!transA && !transB && k % 4 === 0 && n % 4 === 0) return "matmul_nn";
  if (transA && !transB && m % 4 === 0 && n % 4 === 0) return "matmul_tn";
  return "matmul_strided";
}

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
 * Records `c = alpha · op(a) · op(b) (+ bias)` without autograd and returns `c` (f32). Picks the
 * 16×16 register-tiled vec4 kernel for the layout (`matmul_nn`, `matmul_nt`, `matmul_tn`) when
 * the contiguous dimensions are multiples of 4, and `matmul_strided` otherwise. When either
 * operand is f16, both are read as f16 (the other is cast) by the `_f16` twin of the tiled
 * kernel; layouts only `matmul_strided` can take widen the f16 values back to f32 exactly and
 * run it, so the product is the same f32 sum of f16-rounded operands either way.
 */
export function gemm({ a, b }: { a: Tensor; b: Tensor }, spec: GemmSpec): Tensor {
  const { batch, m, n, k, transA = false, transB = false, alpha = 1, bias } = spec;
  const kernel = gemmKernel(spec);
  const half = a.dtype === "f16" || b.dtype === "f16";
  if (half && kernel === "matmul_strided") {
    return gemm({ a: castTensor(a, "f32"), b: castTensor(b, "f32") }, spec);
  }
  if (half) {
    a = castTensor(a, "f16");
    b = castTensor(b, "f16");
  }
  const aBatched = spec.aBatched ?? true, bBatched = spec.bBatched ?? true;
  if (shapeSize(spec.shape) !== batch * m * n) {
    throw new TypeError(
      `Cannot run "gemm": shape [${spec.shape.join(", ")}] does not hold ${batch}×${m}×${n}`,
    );
  }
  const c = empty(a.gpu, spec.shape);
  if (c.size === 0) return c;
  const base = { m, n, k, alpha };
  const run = (record: (batch: number, z0: number) => void) => {
    for (let z0 = 0; z0 < batch; z0 += MAX_GRID) record(Math.min(MAX_GRID, batch - z0), z0);
  };
  if (spec.columnSums && kernel !== "matmul_tn") {
    throw new TypeError(`Cannot run "gemm": columnSums needs the matmul_tn layout, not ${kernel}`);
  }
  if (spec.strides && kernel === "matmul_strided") {
    throw new TypeError(`Cannot run "gemm": strides need a tiled kernel; ${m}×${n}×${k} has none`);
  }
  const st = spec.strides ?? {
    nh: 1,
    a: { group: aBatched ? m * k : 0, inner: 0, ld: transA ? m : k },
    b: { group: bBatched ? k * n : 0, inner: 0, ld: transB ? k : n },
    c: { group: m * n, inner: 0, ld: n },
  };
  // The tiled kernels index a and b (and c, but for matmul_nt) in vec4s.
  const layout = (cWidth: number) => {
    const out = {
      nh: st.nh,
      sa: st.a.group / 4,
      sa2: st.a.inner / 4,
      lda: st.a.ld / 4,
      sb: st.b.group / 4,
      sb2: st.b.inner / 4,
      ldb: st.b.ld / 4,
      sc: st.c.group / cWidth,
      sc2: st.c.inner / cWidth,
      ldc: st.c.ld / cWidth,
    };
    if (!Object.values(out).every(Number.isInteger)) {
      throw new TypeError(`Cannot run "gemm": strides ${JSON.stringify(st)} are not whole vec4s`);
    }
    return out;
  };
  if (kernel === "matmul_nn" || kernel === "matmul_tn") {
    const narrow = narrowTiles(n);
    const shape = tiledWorkgroup(m, n, narrow ? TILE / 2 : TILE);
    const strides = layout(4);
    const uniforms = (count: number, z0: number) => ({ ...base, ...strides, batch: count, z0 });
    if (kernel === "matmul_nn") {
      const nn = nnKernel(half, narrow);
      run((count, z0) => dispatch(nn, { a, b, c }, uniforms(count, z0), shape));
    } else {
      const tn = tnKernel(half, narrow);
      const sums = spec.columnSums;
      const asum = sums ?? empty(a.gpu, [4]);
      const overrides = { ...shape, ASUM: sums ? 1 : 0 };
      run((count, z0) => dispatch(tn, { a, b, c, asum }, uniforms(count, z0), overrides));
    }
  } else if (kernel === "matmul_nt") {
    const shape = tiledWorkgroup(m, n);
    const strides = layout(1);
    run((count, z0) =>
      dispatch(ntKernel(half), { a, b, bias: bias ?? a, c }, {
        ...base,
        ...strides,
        batch: count,
        z0,
        bias_on: bias ? 1 : 0,
      }, shape)
    );
  } else {
    run((count, z0) =>
      dispatch(matmulStrided, { a, b, bias: bias ?? a, c }, {
        ...base,
        batch: count,
        z0,
        sa: st.a.group,
        sb: st.b.group,
        sc: m * n,
        am: transA ? 1 : k,
        ak: transA ? m : 1,
        bk: transB ? 1 : n,
        bn: transB ? k : 1,
        bias_on: bias ? 1 : 0,
      })
    );
  }
  return c;
}

/** A tiled kernel with vec4 stores (`nn`, `tn`), f32 or f16 operands: one dispatch signature. */
type Vec4StoreKernel = Kernel<
  TiledUniforms,
  Record<"a" | "b" | "c", BindingSpec>,
  typeof matmulNn.overrides
>;

/** `matmul_tn` (with its optional column sums of `a`), narrow or not, f32 or f16. */
type TnKernel = Kernel<
  TiledUniforms,
  Record<"a" | "b" | "c" | "asum", BindingSpec>,
  typeof matmulTn.overrides
>;

/** `matmul_nt` or its f16 twin. */
type NtKernel = Kernel<
  TiledBiasUniforms,
  Record<"a" | "b" | "bias" | "c", BindingSpec>,
  typeof matmulNt.overrides
>;

function nnKernel(half: boolean, narrow: boolean): Vec4StoreKernel {
  if (narrow) return half ? matmulNnNarrowF16 : matmulNnNarrow;
  return half ? matmulNnF16 : matmulNn;
}

function tnKernel(half: boolean, narrow: boolean): TnKernel {
  if (narrow) return half ? matmulTnNarrowF16 : matmulTnNarrow;
  return half ? matmulTnF16 : matmulTn;
}

function ntKernel(half: boolean): NtKernel {
  return half ? matmulNtF16 : matmulNt;
}

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
