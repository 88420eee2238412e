/**
 * Matmul and linear kernels at BERT-base shapes. Linear layers use B = 8 (R = B·T = 1024
 * rows) rather than 32: one 4096×768×3072 product takes over a second on lavapipe (2 cores), and
 * the shapes are the same per row. Attention products are `[B=8, NH=12, T=128, HS=64]`.
 * Square 512³ and 1024³ products compare the three layouts with the general strided kernel
 * (`matmul_strided`, 4×4 scalar tiles) as the baseline. Each iteration records the dispatches
 * and waits for the GPU; inputs are made outside the timed part.
 *
 * Run: `deno bench -P bench/matmul_bench.ts`. GFLOP/s = `matmulCost().flops` / time; the
 * one-file comparison with TensorFlow.js is `bench/peers/matmul.ts`.
 *
 * @module
 */

import { matmulCost } from "../kernels/matmul.ts";
import { columnSum, columnSumCost, columnSumVec4 } from "../kernels/matmul_bias.ts";
import { beginScope } from "../lib/autograd/scope.ts";
import { empty, fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import { requestGpu } from "../lib/gpu/device.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { linear } from "../lib/ops/linear.ts";
import { gemm, type GemmSpec } from "../lib/ops/gemm.ts";
import { matmul } from "../lib/ops/matmul.ts";
import { Rng } from "../tests/_util/rng.ts";

const B = 8, T = 128, C = 768, I = 3072, NH = 12, HS = C / NH, R = B * T;
const gpu = await requestGpu();
console.log(`matmul bench on "${gpu.adapter.description}"`);

const rng = new Rng(1);
const make = (shape: number[]) =>
  fromArray(gpu, rng.array(shape.reduce((p, d) => p * d, 1)), shape);

/** Times `record` plus a full GPU sync; temporaries are released after each iteration. */
async function run(record: () => void): Promise<void> {
  const scope = beginScope(gpu);
  record();
  await gpu.sync();
  scope.end();
}

const gflop = (flops: number) => `${(flops / 1e9).toFixed(2)} GFLOP`;

// ---- square products: each layout against the strided kernel --------------------------------

for (const S of [512, 1024]) {
  const a = make([S, S]), b = make([S, S]);
  const group = `matmul ${S}³ (${gflop(matmulCost({ m: S, n: S, k: S }).flops)})`;
  const opts = { group, n: S === 1024 ? 8 : 20, warmup: 2 };
  const product = (spec: Partial<GemmSpec>) => () =>
    run(() => gemm({ a, b }, { batch: 1, m: S, n: S, k: S, shape: [S, S], ...spec }));
  // K = S - 1 is not a multiple of 4, so gemm() takes the strided kernel.
  Deno.bench(`matmul_strided[${S}x${S}x${S - 1}]`, { ...opts, baseline: true }, async () => {
    await run(() => gemm({ a, b }, { batch: 1, m: S, n: S, k: S - 1, shape: [S, S] }));
  });
  Deno.bench(`matmul_nn[${S}x${S}x${S}]`, opts, product({}));
  Deno.bench(`matmul_nt[${S}x${S}x${S}]`, opts, product({ transB: true }));
  Deno.bench(`matmul_tn[${S}x${S}x${S}]`, opts, product({ transA: true }));
}

// ---- linear at BERT-base widths, B = 8 -----------------------------------------------------

for (const [inF, outF] of [[C, C], [C, I], [I, C]]) {
  const x = make([R, inF]), weight = make([outF, inF]), bias = make([outF]);
  const dout = make([R, outF]);
  const shape = `[R=${R},${inF}→${outF}]`;
  const flops = matmulCost({ m: R, n: outF, k: inF }).flops;
  const group = `linear ${inF}→${outF} (${gflop(flops)} forward)`;
  const opts = { group, n: 6, warmup: 1 };
  Deno.bench(`linear_forward${shape} matmul_nt+bias`, { ...opts, baseline: true }, async () => {
    await run(() => linear({ x, weight, bias }));
  });
  Deno.bench(`linear_backward${shape} dx+dW+db`, opts, async () => {
    await run(() => {
      gemm({ a: dout, b: weight }, { batch: 1, m: R, n: inF, k: outF, shape: x.shape });
      gemm({ a: dout, b: x }, {
        batch: 1,
        m: outF,
        n: inF,
        k: R,
        transA: true,
        shape: weight.shape,
      });
      biasGrad(dout, outF);
    });
  });
  Deno.bench(
    `column_sum_vec4${shape} db only (${columnSumCost({ rows: R, cols: outF }).bytes} B)`,
    {
      ...opts,
      n: 20,
    },
    async () => {
      await run(() => biasGrad(dout, outF));
    },
  );
}

function biasGrad(dout: Tensor, cols: number): Tensor {
  const db = empty(gpu, [cols]);
  if (cols % 4 === 0) dispatch(columnSumVec4, { inp: dout, out: db }, { rows: R, cols4: cols / 4 });
  else dispatch(columnSum, { inp: dout, out: db }, { rows: R, cols });
  return db;
}

// ---- attention, [B, NH, T, HS] -------------------------------------------------------------

{
  const q = make([B, NH, T, HS]), k = make([B, NH, T, HS]), v = make([B, NH, T, HS]);
  const probs = make([B, NH, T, T]), dctx = make([B, NH, T, HS]);
  const shape = `[B=${B},NH=${NH},T=${T},HS=${HS}]`;
  const flops = matmulCost({ m: T, n: T, k: HS, batch: B * NH }).flops;
  const group = `attention (${gflop(flops)} per product)`;
  const opts = { group, n: 20, warmup: 2 };
  Deno.bench(`matmul_nt${shape} q·kᵀ/√HS`, { ...opts, baseline: true }, async () => {
    await run(() => matmul({ a: q, b: k }, { transB: true, alpha: 1 / Math.sqrt(HS) }));
  });
  Deno.bench(`matmul_nn${shape} probs·v`, opts, async () => {
    await run(() => matmul({ a: probs, b: v }));
  });
  Deno.bench(`backward${shape} of probs·v: dprobs (nt) + dv (tn)`, opts, async () => {
    await run(() => {
      matmul({ a: dctx, b: v }, { transB: true });
      matmul({ a: probs, b: dctx }, { transA: true });
    });
  });
}

// ---- attention scores at GLUE lengths: the lanes kernel against matmul_nt --------------------

for (const [b, nh, t, hs] of [[96, 4, 32, 32], [32, 2, 48, 64]]) {
  const q = make([b, nh, t, hs]), k = make([b, nh, t, hs]);
  const shape = `[B=${b},NH=${nh},T=${t},HS=${hs}]`;
  const flops = matmulCost({ m: t, n: t, k: hs, batch: b * nh }).flops;
  const group = `short attention scores ${shape} (${gflop(flops)})`;
  const opts = { group, n: 20, warmup: 2 };
  const spec = { batch: b * nh, m: t, n: t, k: hs, transB: true, shape: [b, nh, t, t] };
  // A bias (zeros) keeps gemm() on the 16×16 blocks of matmul_nt.
  const zeros = fromArray(gpu, new Float32Array(t), [t]);
  Deno.bench(`matmul_nt${shape} q·kᵀ`, { ...opts, baseline: true }, async () => {
    await run(() => gemm({ a: q, b: k }, { ...spec, bias: zeros }));
  });
  Deno.bench(`matmul_nt_lanes${shape} q·kᵀ`, opts, async () => {
    await run(() => gemm({ a: q, b: k }, spec));
  });
}
