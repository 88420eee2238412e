import assert from "node:assert/strict";
import { softmaxBackwardRef, type SoftmaxDims, softmaxForwardRef } from "./softmax.ts";
import { softmax } from "../lib/ops/softmax.ts";
import { backward } from "../lib/autograd/backward.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { gpuTest, gpuTestRows } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

// Logits in [-3, 3] carry f32 rounding of ~2e-7 relative into exp(), and rows sum up to 769
// terms: 1e-5 relative (1e-6 absolute for tiny probabilities) is ten times that error.
const FWD_TOL = { atol: 1e-6, rtol: 1e-5 };
// The backward subtracts Σ y·dy from dy: absolute error ~1e-7 on O(1) values.
const BWD_TOL = { atol: 1e-6, rtol: 1e-4 };

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

/** A padding mask: example b keeps its first `lengths[b]` tokens. */
function paddingMask(lengths: number[], tk: number): Float64Array {
  const m = new Float64Array(lengths.length * tk);
  lengths.forEach((len, b) => {
    for (let k = len; k < tk; k++) m[b * tk + k] = -10000;
  });
  return m;
}

interface Case {
  d: SoftmaxDims;
  bias: boolean;
  lengths?: number[];
  label: string;
}

const CASES: Case[] = [
  { d: { b: 13, nh: 1, tq: 1, tk: 769 }, bias: false, label: "plain rows of N=769" },
  { d: { b: 300, nh: 1, tq: 1, tk: 40 }, bias: false, label: "300 plain rows" },
  { d: { b: 3, nh: 1, tq: 1, tk: 5000 }, bias: false, label: "rows of N=5000 (256-wide)" },
  {
    d: { b: 3, nh: 2, tq: 13, tk: 13 },
    bias: true,
    lengths: [13, 7, 0],
    label: "bias and mask at T=13 with a fully masked example",
  },
  {
    d: { b: 3, nh: 2, tq: 12, tk: 12 },
    bias: true,
    lengths: [12, 7, 0],
    label: "bias and mask at T=12 (whole vec4 rows) with a fully masked example",
  },
  { d: { b: 2, nh: 3, tq: 5, tk: 9 }, bias: true, label: "bias without mask" },
  { d: { b: 2, nh: 3, tq: 5, tk: 9 }, bias: false, lengths: [4, 9], label: "mask without bias" },
  {
    d: { b: 2, nh: 12, tq: 128, tk: 128 },
    bias: true,
    lengths: [128, 77],
    label: "BERT-base attention [2, 12, 128, 128]",
  },
];

for (const cs of CASES) {
  gpuTestRows(
    `softmax() forward and backward match float64 reference for ${cs.label}`,
    async (gpu) => {
      const seed = 21;
      const rng = new Rng(seed);
      const { b, nh, tq, tk } = cs.d;
      const attention = cs.bias || cs.lengths !== undefined;
      const shape = attention ? [b, nh, tq, tk] : [b, tk];
      const x = f32(rng.array(b * nh * tq * tk, -3, 3));
      const bias = cs.bias ? f32(rng.array(b * tq * tk, -1, 1)) : undefined;
      const mask = cs.lengths ? paddingMask(cs.lengths, tk) : undefined;
      const tx = fromArray(gpu, x, shape);
      tx.requiresGrad = true;
      const tb = bias ? fromArray(gpu, bias, [b, tq, tk]) : undefined;
      if (tb) tb.requiresGrad = true;
      const y = softmax({ x: tx, bias: tb }, { mask: mask && fromArray(gpu, mask, [b, tk]) });
      const yRef = softmaxForwardRef({ x, bias, mask }, cs.d);
      const yGpu = await y.read();
      const per = nh * tq * tk;
      for (let e = 0; e < b; e++) {
        // In a fully masked example every logit is near −1e4, where one f32 ulp is 1e-3, so
        // exp() of logit differences carries up to ~2e-3 relative error (PyTorch's too).
        const tol = cs.lengths?.[e] === 0 ? { atol: 1e-6, rtol: 5e-3 } : FWD_TOL;
        const at = [e * per, (e + 1) * per] as const;
        assertAllClose(yGpu.slice(...at), yRef.slice(...at), { ...tol, seed, label: `y[${e}]` });
      }

      const dout = f32(rng.array(x.length));
      backward(y, fromArray(gpu, dout, shape));
      // From the kernel's own y, so that the backward is checked apart from forward rounding.
      const g = softmaxBackwardRef(Float64Array.from(yGpu), dout, cs.d);
      assertAllClose(await tx.grad!.read(), g.dx, { ...BWD_TOL, seed, label: "dx" });
      tx.grad!.dispose();
      if (tb) {
        assertAllClose(await tb.grad!.read(), g.dbias, { ...BWD_TOL, seed, label: "dbias" });
        tb.grad!.dispose();
      }
    },
  );
}

for (const tk of [33, 32]) {
  gpuTestRows(
    `softmax() stays finite for ±80 logits and rows masked with −1e4 at N=${tk}`,
    async (gpu) => {
      const x = new Float64Array(2 * 2 * 3 * tk);
      for (let i = 0; i < x.length; i++) x[i] = i % 3 === 0 ? 80 : i % 3 === 1 ? -80 : 79.5;
      // Example 1 is masked everywhere: every logit is shifted by −1e4, so the row is the softmax
      // of the unmasked logits (PyTorch's result with an additive mask).
      const mask = new Float64Array(2 * tk);
      mask.fill(-10000, tk);
      const y = await softmax({ x: fromArray(gpu, x, [2, 2, 3, tk]) }, {
        mask: fromArray(gpu, mask, [2, tk]),
      }).readFloat();
      assert.ok(y.every(Number.isFinite), "a probability is not finite");
      const ref = softmaxForwardRef({ x, mask }, { b: 2, nh: 2, tq: 3, tk });
      // ulp(1e4) = 1e-3 in the masked logits shifts exp() by up to 1e-3 relative.
      assertAllClose(y, ref, { atol: 1e-6, rtol: 2e-3 });
      for (let r = 0; r < 12; r++) {
        const s = y.slice(r * tk, (r + 1) * tk).reduce((p, v) => p + v, 0);
        assert.ok(Math.abs(s - 1) < 1e-5, `row ${r} sums to ${s}`);
      }
    },
  );
}

gpuTest("softmax() rejects i32 tensors and mismatched bias or mask shapes", (gpu) => {
  const x = fromArray(gpu, new Float64Array(2 * 3 * 4 * 5), [2, 3, 4, 5]);
  const okBias = fromArray(gpu, new Float64Array(2 * 4 * 5), [2, 4, 5]);
  const badBias = fromArray(gpu, new Float64Array(2 * 5 * 5), [2, 5, 5]);
  const okMask = fromArray(gpu, new Float64Array(10), [2, 5]);
  const intMask = fromArray(gpu, new Float64Array(10), [2, 5], { dtype: "i32" });
  assert.throws(
    () => softmax({ x, bias: badBias }),
    (e) => e instanceof TypeError && /Cannot run "softmax": "bias" is \[2, 5, 5\]/.test(e.message),
  );
  assert.throws(
    () => softmax({ x, bias: okBias }, { mask: intMask }),
    (e) => e instanceof TypeError && /"mask" is i32/.test(e.message),
  );
  const x2 = fromArray(gpu, new Float64Array(10), [2, 5]);
  assert.throws(() => softmax({ x: x2 }, { mask: okMask }), /"x" is \[2, 5\], expected \[B, NH/);
  const xi = fromArray(gpu, new Float64Array(10), [2, 5], { dtype: "i32" });
  assert.throws(() => softmax({ x: xi }), TypeError);
});

Deno.test("softmax reference passes gradcheck for x and the shared bias", () => {
  const rng = new Rng(4);
  const d = { b: 2, nh: 3, tq: 2, tk: 4 };
  const mask = paddingMask([4, 3], d.tk);
  const fwd = ([x, bias]: Float64Array[]) => softmaxForwardRef({ x, bias, mask }, d);
  const bwd = ([x, bias]: Float64Array[], dout: Float64Array) => {
    const g = softmaxBackwardRef(fwd([x, bias]), dout, d);
    return [g.dx, g.dbias];
  };
  gradcheck(fwd, bwd, [rng.array(48, -2, 2), rng.array(16)]);
});
