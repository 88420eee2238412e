import assert from "node:assert/strict";
import { isAutocast, withAutocast } from "./autocast.ts";
import { backward } from "./backward.ts";
import { fromArray, type Tensor } from "./tensor.ts";
import {
  linearBackwardRef,
  linearRef,
  matmulBackwardRef,
  type MatmulDims,
  matmulRef,
} from "../../kernels/matmul_ref.ts";
import type { Gpu } from "../gpu/device.ts";
import { linear } from "../ops/linear.ts";
import { matmul } from "../ops/matmul.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { Rng } from "../../tests/_util/rng.ts";

const f32 = (a: Float64Array) => a.map(Math.fround);
const abs = (a: Float64Array) => a.map(Math.abs);

/**
 * Checks f16-operand results against the exact float64 reference. Every product reads two
 * f16-rounded values, each within 2⁻¹¹ relative (f16's unit roundoff) or 2⁻²⁵ absolute (its
 * subnormals), so |got − ref| ≤ 1.01·2⁻¹⁰·Σ|x||y| + k·2⁻²⁴·max|y| per output, where `bound`
 * holds Σ|x||y| (the same reference on absolute values); f32 accumulation adds 8·2⁻²⁴·k·Σ.
 * Also demands a visible f16 error somewhere, so a path that stayed in f32 fails.
 */
function assertF16Close(
  got: ArrayLike<number>,
  ref: Float64Array,
  bound: Float64Array,
  k: number,
  label: string,
): void {
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const allowed = (1.01 * 2 ** -10 + 8 * 2 ** -24 * k) * bound[i] + k * 2 ** -24 + 1e-7;
    const err = Math.abs(got[i] - ref[i]);
    assert.ok(
      err <= allowed,
      `${label}[${i}]: got ${got[i]}, expected ${ref[i]}, error ${err} > ${allowed}`,
    );
    worst = Math.max(worst, err / (bound[i] || 1));
  }
  assert.ok(worst > 2 ** -16, `${label}: relative error ${worst} shows no f16 rounding`);
}

function param(gpu: Gpu, data: Float64Array, shape: number[]): Tensor {
  const t = fromArray(gpu, data, shape);
  t.requiresGrad = true;
  return t;
}

gpuTest("linear() under autocast matches float64 within f16 operand rounding", async (gpu) => {
  const rng = new Rng(12);
  const rows = 26, inFeatures = 68, outFeatures = 36;
  const x = f32(rng.array(rows * inFeatures)), w = f32(rng.array(outFeatures * inFeatures));
  const b = f32(rng.array(outFeatures)), dy = f32(rng.array(rows * outFeatures));
  const tx = param(gpu, x, [2, 13, inFeatures]), tw = param(gpu, w, [outFeatures, inFeatures]);
  const tb = param(gpu, b, [outFeatures]);
  const y = await withAutocast(gpu, () => linear({ x: tx, weight: tw, bias: tb }));
  assert.equal(y.dtype, "f32");
  assert.equal(isAutocast(gpu), false);
  const dims = { rows, inFeatures, outFeatures };
  const yBound = linearRef({ x: abs(x), weight: abs(w), bias: abs(b) }, dims);
  assertF16Close(await y.read(), linearRef({ x, weight: w, bias: b }, dims), yBound, 68, "y");
  // Backward runs outside the autocast region, as a training step does, and still uses f16.
  backward(y, fromArray(gpu, dy, y.shape));
  const ref = linearBackwardRef({ x, weight: w, dy }, dims);
  const bound = linearBackwardRef({ x: abs(x), weight: abs(w), dy: abs(dy) }, dims);
  assertF16Close(await tx.grad!.read(), ref.dx, bound.dx, outFeatures, "dx");
  assertF16Close(await tw.grad!.read(), ref.dweight, bound.dweight, rows, "dweight");
  // The bias gradient never touches f16: f32 column sums.
  const db = await tb.grad!.read();
  ref.dbias.forEach((v, i) => assert.ok(Math.abs(db[i] - v) <= 1e-5, `dbias[${i}]`));
  for (const t of [tx, tw, tb]) t.grad!.dispose();
});

const MATMUL_CASES: { label: string; a: number[]; b: number[]; dims: MatmulDims }[] = [
  {
    label: "attention scores q·kᵀ/√HS",
    a: [2, 3, 13, 32],
    b: [2, 3, 13, 32],
    dims: { batch: 6, m: 13, n: 13, k: 32, transB: true, alpha: 1 / Math.sqrt(32) },
  },
  {
    label: "attention context probs·v (K = 13: strided fallback)",
    a: [2, 3, 13, 13],
    b: [2, 3, 13, 32],
    dims: { batch: 6, m: 13, n: 32, k: 13 },
  },
  {
    label: "aligned NN, T = 16",
    a: [2, 16, 16],
    b: [2, 16, 32],
    dims: { batch: 2, m: 16, n: 32, k: 16 },
  },
];

for (const cs of MATMUL_CASES) {
  gpuTest(
    `matmul() under autocast matches float64 within f16 rounding: ${cs.label}`,
    async (gpu) => {
      const rng = new Rng(13);
      const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
      const a = f32(rng.array(size(cs.a))), b = f32(rng.array(size(cs.b)));
      const ta = param(gpu, a, cs.a), tb = param(gpu, b, cs.b);
      const { transA, transB, alpha } = cs.dims;
      const c = await withAutocast(gpu, () => matmul({ a: ta, b: tb }, { transA, transB, alpha }));
      const absDims = { ...cs.dims, alpha: Math.abs(alpha ?? 1) };
      const bound = matmulRef({ a: abs(a), b: abs(b) }, absDims);
      assertF16Close(await c.read(), matmulRef({ a, b }, cs.dims), bound, cs.dims.k, "c");
      const dc = f32(rng.array(c.size));
      backward(c, fromArray(gpu, dc, c.shape));
      const ref = matmulBackwardRef({ a, b, dc }, cs.dims);
      const gb = matmulBackwardRef({ a: abs(a), b: abs(b), dc: abs(dc) }, absDims);
      assertF16Close(await ta.grad!.read(), ref.da, gb.da, cs.dims.n, "da");
      assertF16Close(await tb.grad!.read(), ref.db, gb.db, cs.dims.m, "db");
      ta.grad!.dispose();
      tb.grad!.dispose();
    },
  );
}

gpuTest("linear() outside autocast stays exact f32", async (gpu) => {
  const rng = new Rng(14);
  const x = f32(rng.array(4 * 8)), w = f32(rng.array(4 * 8));
  const y = linear({ x: fromArray(gpu, x, [4, 8]), weight: fromArray(gpu, w, [4, 8]) });
  const ref = linearRef({ x, weight: w }, { rows: 4, inFeatures: 8, outFeatures: 4 });
  const got = await y.read();
  ref.forEach((v, i) => assert.ok(Math.abs(got[i] - v) <= 1e-6, `y[${i}]`));
});

Deno.test("withAutocast() refuses a device without shader-f16 in one line", async () => {
  const gpu = { hasF16: false, adapter: { description: "Fake adapter" } } as unknown as Gpu;
  await assert.rejects(
    () => withAutocast(gpu, () => 1),
    (e) =>
      e instanceof Error &&
      e.message ===
        'Cannot enable autocast: adapter "Fake adapter" lacks the "shader-f16" feature',
  );
  assert.equal(isAutocast(gpu), false);
  assert.equal(await withAutocast(gpu, () => 2, false), 2);
});
