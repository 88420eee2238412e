import assert from "node:assert/strict";
import { layerNormBackwardRef, layerNormForwardRef, rowWorkgroupSize } from "./layer_norm.ts";
import { layerNorm } from "../lib/ops/layer_norm.ts";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import { gpuTest, gpuTestRows } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

// f32 sums over C ≤ 769 terms in a tree: relative error ~1e-6 on O(1) outputs, so 1e-5 / 1e-4
// leaves a margin of ten without hiding a wrong formula (those are off by O(1)).
const FWD_TOL = { atol: 1e-5, rtol: 1e-4 };
// Backward sums C products per row, then over R rows for the parameters: looser by ten.
const BWD_TOL = { atol: 1e-4, rtol: 1e-3 };
const EPS = 1e-12;

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

interface Case {
  shape: number[];
  gainShape: number[];
  label: string;
}

const CASES: Case[] = [
  { shape: [13, 769], gainShape: [769], label: "C=769 (not a multiple of the workgroup)" },
  { shape: [300, 40], gainShape: [40], label: "300 rows (many workgroups)" },
  { shape: [3, 5000], gainShape: [5000], label: "C=5000 (256-wide workgroups)" },
  { shape: [2, 128, 768], gainShape: [768], label: "BERT-base rows [2, 128, 768]" },
  { shape: [3, 13, 769], gainShape: [3, 769], label: "per-example gain [B=3, C=769]" },
  { shape: [3, 13, 772], gainShape: [3, 772], label: "per-example gain [B=3, C=772]" },
];

function inputs(rng: Rng, { shape, gainShape }: Case) {
  const n = shape.reduce((p, d) => p * d, 1);
  const c = shape[shape.length - 1];
  return {
    x: f32(rng.array(n, -2, 2)),
    gain: f32(rng.array(gainShape.reduce((p, d) => p * d, 1), 0.5, 1.5)),
    bias: f32(rng.array(c)),
  };
}

function upload(gpu: Gpu, data: ReturnType<typeof inputs>, { shape, gainShape }: Case) {
  const c = shape[shape.length - 1];
  const t = {
    x: fromArray(gpu, data.x, shape),
    gain: fromArray(gpu, data.gain, gainShape),
    bias: fromArray(gpu, data.bias, [c]),
  };
  for (const v of Object.values(t)) v.requiresGrad = true;
  return t;
}

function disposeGrads(ts: Tensor[]): void {
  for (const t of ts) t.grad?.dispose();
}

for (const cs of CASES) {
  gpuTestRows(
    `layerNorm() forward and backward match float64 reference at ${cs.label}`,
    async (gpu) => {
      const seed = 11;
      const rng = new Rng(seed);
      const data = inputs(rng, cs);
      const c = cs.shape[cs.shape.length - 1];
      const t = upload(gpu, data, cs);
      const out = layerNorm(t, { eps: EPS });
      assert.deepEqual(out.shape, cs.shape);
      const ref = layerNormForwardRef(data, { c, eps: EPS });
      assertAllClose(await out.read(), ref.out, { ...FWD_TOL, seed, label: "out" });

      const dout = f32(rng.array(data.x.length));
      backward(out, fromArray(gpu, dout, cs.shape));
      const g = layerNormBackwardRef(data, dout, { c, eps: EPS });
      assertAllClose(await t.x.grad!.read(), g.dx, { ...BWD_TOL, seed, label: "dx" });
      assertAllClose(await t.gain.grad!.read(), g.dgain, { ...BWD_TOL, seed, label: "dgain" });
      assertAllClose(await t.bias.grad!.read(), g.dbias, { ...BWD_TOL, seed, label: "dbias" });
      disposeGrads([t.x, t.gain, t.bias]);
    },
  );
}

for (const c of [769, 768]) {
  gpuTestRows(
    `layerNorm() keeps precision for a large mean and a small spread at C=${c}`,
    async (gpu) => {
      const rng = new Rng(5);
      // Rows around 1000 with unit spread: a one-pass E[x²] − E[x]² loses everything here.
      const x = f32(rng.array(4 * c, -1, 1).map((v) => 1000 + v));
      const gain = new Float64Array(c).fill(1), bias = new Float64Array(c);
      const out = layerNorm({
        x: fromArray(gpu, x, [4, c]),
        gain: fromArray(gpu, gain, [c]),
        bias: fromArray(gpu, bias, [c]),
      }, { eps: EPS });
      // Inputs carry ulp(1000) = 6e-5 of rounding, which the reference sees too; the mean of 769
      // such values is exact to ~1e-4 of the unit spread.
      assertAllClose(
        await out.read(),
        layerNormForwardRef({ x, gain, bias }, { c, eps: EPS }).out,
        {
          atol: 1e-3,
          rtol: 1e-3,
          seed: 5,
        },
      );
    },
  );
}

gpuTestRows(
  "layerNorm() of a constant row with eps=1e-12 gives the bias, without NaN",
  async (gpu) => {
    const c = 100;
    const bias = f32(new Rng(2).array(c));
    const x = fromArray(gpu, new Float64Array(3 * c).fill(7.25), [3, c]);
    const out = await layerNorm({
      x,
      gain: fromArray(gpu, new Float64Array(c).fill(2), [c]),
      bias: fromArray(gpu, bias, [c]),
    }, { eps: EPS }).read();
    assert.ok(out.every(Number.isFinite), "output has a non-finite value");
    assertAllClose(out, [...bias, ...bias, ...bias], { atol: 0, rtol: 0 });
  },
);

gpuTest("layerNorm() rejects i32 input and mismatched gain or bias shapes", (gpu) => {
  const x = fromArray(gpu, new Float64Array(24), [2, 3, 4]);
  const g4 = fromArray(gpu, new Float64Array(4), [4]);
  const g5 = fromArray(gpu, new Float64Array(5), [5]);
  const xi = fromArray(gpu, new Float64Array(24), [2, 3, 4], { dtype: "i32" });
  assert.throws(
    () => layerNorm({ x: xi, gain: g4, bias: g4 }),
    (e) => e instanceof TypeError && /Cannot run "layerNorm": "x" is i32/.test(e.message),
  );
  assert.throws(
    () => layerNorm({ x, gain: g5, bias: g4 }),
    (e) => e instanceof TypeError && /Cannot run "layerNorm": "gain" is \[5\]/.test(e.message),
  );
  assert.throws(() => layerNorm({ x, gain: g4, bias: g5 }), TypeError);
  const gBad = fromArray(gpu, new Float64Array(12), [3, 4]);
  assert.throws(() => layerNorm({ x, gain: gBad, bias: g4 }), /"gain" is \[3, 4\]/);
  const x2 = fromArray(gpu, new Float64Array(8), [2, 4]);
  const gB = fromArray(gpu, new Float64Array(8), [2, 4]);
  assert.throws(() => layerNorm({ x: x2, gain: gB, bias: g4 }), /needs "x" as \[B, T, C\]/);
  assert.throws(() => layerNorm({ x, gain: g4, bias: g4 }, { eps: -1 }), RangeError);
});

Deno.test("layerNorm references pass gradcheck for [C] and per-example [B, C] gains", () => {
  const rng = new Rng(9);
  for (const [b, t, c, perExample] of [[1, 6, 5, false], [3, 4, 5, true]] as const) {
    const eps = 1e-5;
    const n = b * t * c;
    const fwd = ([x, gain, bias]: Float64Array[]) =>
      layerNormForwardRef({ x, gain, bias }, { c, eps }).out;
    const bwd = ([x, gain]: Float64Array[], d: Float64Array) => {
      const g = layerNormBackwardRef({ x, gain }, d, { c, eps });
      return [g.dx, g.dgain, g.dbias];
    };
    const gain = rng.array(perExample ? b * c : c, 0.5, 1.5);
    gradcheck(fwd, bwd, [rng.array(n, -2, 2), gain, rng.array(c)], { label: `b=${b}` });
  }
});

Deno.test("rowWorkgroupSize() picks a power of two from 32 to 256", () => {
  assert.deepEqual([1, 769, 1024, 1025, 4096, 5000, 1e5].map(rowWorkgroupSize), [
    32,
    32,
    32,
    64,
    128,
    256,
    256,
  ]);
});
