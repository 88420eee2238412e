import assert from "node:assert/strict";
import { matmulBackwardRef, matmulRef } from "../../kernels/matmul_ref.ts";
import { backward } from "../autograd/backward.ts";
import { withAutocast } from "../autograd/autocast.ts";
import { fromArray, type Tensor } from "../autograd/tensor.ts";
import { attendsInPlace } from "../gpu/kernel_choice.ts";
import { attentionContext, attentionScores } from "./attention.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { assertAllClose } from "../../tests/_util/allclose.ts";
import { Rng } from "../../tests/_util/rng.ts";

const f32 = (a: Float64Array) => Float64Array.from(Float32Array.from(a));

/** `[B, T, NH·HS]` → `[B, NH, T, HS]` on the CPU. */
function split(x: Float64Array, b: number, t: number, nh: number, hs: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let e = 0; e < b; e++) {
    for (let i = 0; i < t; i++) {
      for (let h = 0; h < nh; h++) {
        for (let j = 0; j < hs; j++) {
          out[((e * nh + h) * t + i) * hs + j] = x[((e * t + i) * nh + h) * hs + j];
        }
      }
    }
  }
  return out;
}

/** `[B, NH, T, HS]` → `[B, T, NH·HS]` on the CPU. */
function merge(x: Float64Array, b: number, t: number, nh: number, hs: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let e = 0; e < b; e++) {
    for (let i = 0; i < t; i++) {
      for (let h = 0; h < nh; h++) {
        for (let j = 0; j < hs; j++) {
          out[((e * t + i) * nh + h) * hs + j] = x[((e * nh + h) * t + i) * hs + j];
        }
      }
    }
  }
  return out;
}

function param(gpu: Tensor["gpu"], data: Float64Array, shape: number[]): Tensor {
  const t = fromArray(gpu, data, shape);
  t.requiresGrad = true;
  return t;
}

// Sums of at most 68 products of values in [-1, 1], in f32.
const TOL = { atol: 2e-5, rtol: 1e-4 };

// T = 12 and 20 are not multiples of the 16-row blocks; HS = 64 takes the narrow kernels,
// HS = 68 the 16-wide ones with a partial block.
for (const [b, t, nh, hs] of [[2, 12, 3, 8], [2, 20, 2, 64], [1, 8, 2, 68]]) {
  gpuTest(
    `attentionScores() and attentionContext() match per-head float64 products at ` +
      `B=${b} T=${t} NH=${nh} HS=${hs}`,
    async (gpu) => {
      const seed = 100 + hs, rng = new Rng(seed);
      const c = nh * hs, scale = 1 / Math.sqrt(hs);
      const q = f32(rng.array(b * t * c)), k = f32(rng.array(b * t * c));
      const v = f32(rng.array(b * t * c)), p = f32(rng.array(b * nh * t * t, 0, 1));
      const tq = param(gpu, q, [b, t, c]), tk = param(gpu, k, [b, t, c]);
      const tv = param(gpu, v, [b, t, c]), tp = param(gpu, p, [b, nh, t, t]);
      const heads = (x: Float64Array) => split(x, b, t, nh, hs);
      const batch = b * nh;
      const sDims = { batch, m: t, n: t, k: hs, transB: true, alpha: scale };
      const cDims = { batch, m: t, n: hs, k: t };

      const scores = attentionScores({ q: tq, k: tk }, { heads: nh, scale });
      assert.deepEqual(scores.shape, [b, nh, t, t]);
      assertAllClose(await scores.read(), matmulRef({ a: heads(q), b: heads(k) }, sDims), {
        ...TOL,
        seed,
        label: "scores",
      });
      const context = attentionContext({ probs: tp, v: tv }, { heads: nh });
      assert.deepEqual(context.shape, [b, t, c]);
      const ctxRef = matmulRef({ a: p, b: heads(v) }, cDims);
      assertAllClose(await context.read(), merge(ctxRef, b, t, nh, hs), {
        ...TOL,
        seed,
        label: "context",
      });

      const ds = f32(rng.array(b * nh * t * t)), dc = f32(rng.array(b * t * c));
      backward(scores, fromArray(gpu, ds, scores.shape));
      backward(context, fromArray(gpu, dc, context.shape));
      const gs = matmulBackwardRef({ a: heads(q), b: heads(k), dc: ds }, sDims);
      const gc = matmulBackwardRef({ a: p, b: heads(v), dc: heads(dc) }, cDims);
      const unsplit = (x: Float64Array) => merge(x, b, t, nh, hs);
      assertAllClose(await tq.grad!.read(), unsplit(gs.da), { ...TOL, seed, label: "dq" });
      assertAllClose(await tk.grad!.read(), unsplit(gs.db), { ...TOL, seed, label: "dk" });
      assertAllClose(await tp.grad!.read(), gc.da, { ...TOL, seed, label: "dprobs" });
      assertAllClose(await tv.grad!.read(), unsplit(gc.db), { ...TOL, seed, label: "dv" });
      for (const x of [tq, tk, tv, tp]) x.grad!.dispose();
    },
  );
}

gpuTest("attention products under autocast stay within f16 rounding of f32", async (gpu) => {
  const rng = new Rng(3);
  const [b, t, nh, hs] = [2, 16, 2, 32];
  const q = fromArray(gpu, rng.array(b * t * nh * hs), [b, t, nh * hs]);
  const k = fromArray(gpu, rng.array(b * t * nh * hs), [b, t, nh * hs]);
  const exact = await attentionScores({ q, k }, { heads: nh }).read();
  const half = await withAutocast(gpu, () => attentionScores({ q, k }, { heads: nh }).read());
  // Operands rounded to 2⁻¹¹ relative; 32 products of values in [-1, 1].
  assertAllClose(half, exact, { atol: 32 * 2 ** -10, rtol: 0 });
  assert.ok(half.some((v, i) => v !== exact[i]), "autocast did not round the operands to f16");
});

gpuTest("attention products reject shapes they cannot read in place", (gpu) => {
  const x = (shape: number[]) =>
    fromArray(gpu, new Float64Array(shape.reduce((p, d) => p * d)), shape);
  assert.equal(attendsInPlace(12, 64), true);
  assert.equal(attendsInPlace(13, 64), false);
  assert.throws(
    () => attentionScores({ q: x([2, 13, 16]), k: x([2, 13, 16]) }, { heads: 2 }),
    /T = 13 and HS = 8 must be multiples of 4/,
  );
  assert.throws(
    () => attentionScores({ q: x([2, 12, 18]), k: x([2, 12, 18]) }, { heads: 4 }),
    /expected \[B, T, NH·HS\] with NH = 4, got \[2, 12, 18\]/,
  );
  assert.throws(
    () => attentionScores({ q: x([2, 12, 16]), k: x([2, 8, 16]) }, { heads: 2 }),
    /"k" is \[2, 8, 16\], expected \[B, T, C\] with B=2, T=12, C=16/,
  );
  assert.throws(
    () => attentionContext({ probs: x([2, 2, 12, 8]), v: x([2, 12, 16]) }, { heads: 2 }),
    /"probs" is \[2, 2, 12, 8\], expected \[B, NH, T, T\] with B=2, NH=2, T=12/,
  );
});
