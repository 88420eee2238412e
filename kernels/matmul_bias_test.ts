import assert from "node:assert/strict";
import { columnSum, columnSumRef, columnSumVec4 } from "./matmul_bias.ts";
import { linearBackwardRef, linearRef } from "./matmul_ref.ts";
import { linear } from "../lib/ops/linear.ts";
import { dispatch } from "../lib/gpu/dispatch.ts";
import { backward } from "../lib/autograd/backward.ts";
import { empty, fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

/**
 * An f32 sum of `k` products of values in [-1, 1]: about ε·k/4 of error in the mean, so
 * 8·ε·k (ε = 2⁻²⁴) leaves a wide margin while an index error (off by O(1)) still fails; see
 * `matmul_test.ts`.
 */
function tol(k: number): { atol: number; rtol: number } {
  return { atol: Math.max(1, k) * 8 * 2 ** -24, rtol: 1e-5 };
}

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));
const size = (s: number[]) => s.reduce((p, d) => p * d, 1);

interface Case {
  label: string;
  x: number[];
  out: number;
  bias: boolean;
}

const CASES: Case[] = [
  { label: "x [13, 68] → 36 with bias (vec4 kernels)", x: [13, 68], out: 36, bias: true },
  {
    label: "x [2, 13, 769] → 65 with bias (strided kernels)",
    x: [2, 13, 769],
    out: 65,
    bias: true,
  },
  { label: "x [3, 5, 64] → 2 without bias (classifier head)", x: [3, 5, 64], out: 2, bias: false },
  { label: "x [100, 128] → 300 (many workgroups)", x: [100, 128], out: 300, bias: true },
  { label: "x [37, 60] → 44 (narrow weight gradient)", x: [37, 60], out: 44, bias: true },
  { label: "x [1] → 1", x: [1], out: 1, bias: true },
];

function disposeGrads(ts: (Tensor | undefined)[]): void {
  for (const t of ts) t?.grad?.dispose();
}

for (const cs of CASES) {
  gpuTest(`linear() forward and backward match float64 reference: ${cs.label}`, async (gpu) => {
    const seed = 31, rng = new Rng(seed);
    const inF = cs.x[cs.x.length - 1], rows = size(cs.x) / inF;
    const dims = { rows, inFeatures: inF, outFeatures: cs.out };
    const x = f32(rng.array(size(cs.x))), weight = f32(rng.array(cs.out * inF));
    const bias = cs.bias ? f32(rng.array(cs.out)) : undefined;
    const tx = fromArray(gpu, x, cs.x), tw = fromArray(gpu, weight, [cs.out, inF]);
    const tb = bias ? fromArray(gpu, bias, [cs.out]) : undefined;
    for (const t of [tx, tw, tb]) if (t) t.requiresGrad = true;
    const y = linear({ x: tx, weight: tw, bias: tb });
    assert.deepEqual(y.shape, [...cs.x.slice(0, -1), cs.out]);
    assertAllClose(await y.read(), linearRef({ x, weight, bias }, dims), {
      ...tol(inF),
      seed,
      label: "y",
    });

    const dy = f32(rng.array(y.size));
    backward(y, fromArray(gpu, dy, y.shape));
    const ref = linearBackwardRef({ x, weight, dy }, dims);
    assertAllClose(await tx.grad!.read(), ref.dx, { ...tol(cs.out), seed, label: "dx" });
    assertAllClose(await tw.grad!.read(), ref.dweight, { ...tol(rows), seed, label: "dweight" });
    if (tb) assertAllClose(await tb.grad!.read(), ref.dbias, { ...tol(rows), seed, label: "db" });
    disposeGrads([tx, tw, tb]);
  });
}

gpuTest(
  "linear() bias gradient is the same whether or not the weight gradient sums it",
  async (gpu) => {
    // With the weight trainable, matmul_tn sums dout's columns on the way (ASUM); frozen, the
    // column-sum kernel runs alone.
    const seed = 8, rng = new Rng(seed);
    const x = f32(rng.array(50 * 24)), weight = f32(rng.array(20 * 24)), bias = f32(rng.array(20));
    const dy = f32(rng.array(50 * 20));
    const ref = linearBackwardRef({ x, weight, dy }, { rows: 50, inFeatures: 24, outFeatures: 20 });
    for (const frozen of [false, true]) {
      const tw = fromArray(gpu, weight, [20, 24]), tb = fromArray(gpu, bias, [20]);
      tw.requiresGrad = !frozen;
      tb.requiresGrad = true;
      backward(
        linear({ x: fromArray(gpu, x, [50, 24]), weight: tw, bias: tb }),
        fromArray(gpu, dy, [50, 20]),
      );
      assert.equal(tw.grad === null, frozen);
      assertAllClose(await tb.grad!.read(), ref.dbias, {
        ...tol(50),
        seed,
        label: `db, frozen=${frozen}`,
      });
      disposeGrads([tw, tb]);
    }
  },
);

gpuTest(
  "linear() matches the reference at BERT's intermediate size [256, 768] → 3072",
  async (gpu) => {
    const seed = 4, rng = new Rng(seed);
    const rows = 256, inF = 768, outF = 3072;
    const x = f32(rng.array(rows * inF)), weight = f32(rng.array(outF * inF));
    const bias = f32(rng.array(outF));
    const y = linear({
      x: fromArray(gpu, x, [rows, inF]),
      weight: fromArray(gpu, weight, [outF, inF]),
      bias: fromArray(gpu, bias, [outF]),
    });
    const ref = linearRef({ x, weight, bias }, { rows, inFeatures: inF, outFeatures: outF });
    assertAllClose(await y.read(), ref, { ...tol(inF), seed });
  },
);

gpuTest("column_sum kernels match the reference, including ±1e30 columns", async (gpu) => {
  const rng = new Rng(6);
  for (const [rows, cols] of [[13, 769], [300, 40], [1, 1], [1000, 8]]) {
    const inp = f32(rng.array(rows * cols));
    // Column 0 sums huge values that cancel in pairs; f32 must not overflow on the way.
    for (let r = 0; r + 1 < rows; r += 2) [inp[r * cols], inp[(r + 1) * cols]] = [1e30, -1e30];
    const t = fromArray(gpu, inp, [rows, cols]), out = empty(gpu, [cols]);
    if (cols % 4 === 0) dispatch(columnSumVec4, { inp: t, out }, { rows, cols4: cols / 4 });
    else dispatch(columnSum, { inp: t, out }, { rows, cols });
    assertAllClose(await out.read(), columnSumRef(inp, rows, cols), {
      ...tol(rows),
      label: `[${rows}, ${cols}]`,
    });
  }
});

gpuTest("linear() rejects mismatched shapes and i32 inputs with a TypeError", (gpu) => {
  const t = (shape: number[], dtype: "f32" | "i32" = "f32") =>
    fromArray(gpu, new Float64Array(size(shape)), shape, { dtype });
  const check = (fn: () => unknown, re: RegExp) =>
    assert.throws(fn, (e) => e instanceof TypeError && re.test(e.message));
  check(
    () => linear({ x: t([8, 512]), weight: t([3072, 768]) }),
    /^Cannot run "linear": "x" is \[8, 512\], expected \[\.\.\., 768\] to match "weight" \[3072, 768\]$/,
  );
  check(
    () => linear({ x: t([8, 768]), weight: t([768]) }),
    /"weight" is \[768\], expected \[OUT, IN\]/,
  );
  check(
    () => linear({ x: t([8, 768]), weight: t([30, 768]), bias: t([31]) }),
    /"bias" is \[31\], expected \[30\]/,
  );
  check(() => linear({ x: t([8, 4], "i32"), weight: t([3, 4]) }), /"x" is i32, expected f32/);
  check(() => linear({ x: t([8, 4]), weight: t([3, 4], "i32") }), /"weight" is i32/);
});

Deno.test("linear reference backward passes gradcheck", () => {
  const rng = new Rng(12);
  const dims = { rows: 4, inFeatures: 5, outFeatures: 3 };
  gradcheck(
    ([x, weight, bias]) => linearRef({ x, weight, bias }, dims),
    ([x, weight], dy) => {
      const g = linearBackwardRef({ x, weight, dy }, dims);
      return [g.dx, g.dweight, g.dbias];
    },
    [rng.array(20), rng.array(15), rng.array(3)],
  );
});
