/**
 * `gemm`: records `c = alpha · op(a) · op(b) (+ bias)` without autograd, on the kernel that
 * `lib/gpu/kernel_choice.ts` picks for the layout. Transposed operands are read in place by a
 * kernel made for that layout; nothing is transposed in memory. `matmul` and `linear` run on it.
 *
 * @module
 */

import { type BindingSpec, type Kernel, MAX_GRID } from "../../kernels/kernel.ts";
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
import type { MatmulDims } from "../../kernels/matmul_ref.ts";
import { matmulNtLanes } from "../../kernels/matmul_lanes.ts";
import { matmulStrided } from "../../kernels/matmul_strided.ts";
import { empty, shapeSize, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { gemmKernel, lanesNt, narrowTiles, tiledWorkgroup } from "../gpu/kernel_choice.ts";
import { castTensor } from "./cast.ts";

/**
 * Layout and sizes of one (batched) product for {@linkcode gemm}: the sizes and layout the
 * float64 reference takes ({@linkcode MatmulDims}; `c` is `[batch, M, N]` in memory), and what
 * only the GPU product has.
 */
export interface GemmSpec extends MatmulDims {
  /** False when one `a` serves every product. Default true. */
  aBatched?: boolean;
  /** `[N]`, added to every row of `c`. */
  bias?: Tensor;
  /**
   * `[batch, M]` (or `[M]`), written with `Σ_k op(a)[m, k]` per batch: the bias gradient that a
   * weight gradient `doutᵀ · x` can sum on the way. Only for the `matmul_tn` layout
   * (`gemmKernel` in `lib/gpu/kernel_choice.ts`).
   */
  columnSums?: Tensor;
  /**
   * Where each operand's products and rows lie, for operands read in place (attention's heads
   * in a `[B, T, NH·HS]` tensor); default: contiguous products of contiguous rows. Needs one of
   * the tiled vec4 kernels (`gemmKernel` other than `matmul_strided`); `c` is still
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
  } else if (kernel === "matmul_nt" && !half && !bias && lanesNt(n, k)) {
    const strides = layout(1);
    const lanes = matmulNtLanes(k);
    run((count, z0) => dispatch(lanes, { a, b, c }, { ...base, ...strides, batch: count, z0 }));
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
