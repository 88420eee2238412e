import assert from "node:assert/strict";
import {
  crossEntropyBackwardRef,
  crossEntropyForwardRef,
  normalizedEntropyRef,
} from "./cross_entropy.ts";
import { crossEntropy, normalizedEntropy } from "../lib/ops/cross_entropy.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { backward } from "../lib/autograd/backward.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

function labelsFor(rng: Rng, rows: number, k: number): Int32Array {
  return Int32Array.from({ length: rows }, () => rng.int(k));
}

// [rows, K, logit scale]: K not a multiple of the workgroup, many rows (two-pass mean), the
// BERT head, and logits of ±1000 (a naive exp overflows).
const CASES: [number, number, number][] = [
  [13, 769, 3],
  [20_001, 3, 2],
  [32, 2, 1],
  [7, 5, 1000],
];

for (const [rows, k, scale] of CASES) {
  gpuTest(
    `crossEntropy() forward and backward match float64 reference at [${rows}, ${k}] ×${scale}`,
    async (gpu) => {
      const rng = new Rng(rows + k);
      const x = rng.array(rows * k, -scale, scale);
      const y = labelsFor(rng, rows, k);
      const logits = fromArray(gpu, x, [rows, k]);
      logits.requiresGrad = true;
      const loss = crossEntropy({ logits }, {
        labels: fromArray(gpu, y, [rows], { dtype: "i32" }),
      });
      assert.deepEqual(loss.shape, [1]);
      // f32 log-sum-exp: relative error a few ulps of the largest |logit| per row.
      assertAllClose(await loss.read(), [crossEntropyForwardRef(x, y, k)], {
        atol: 1e-5,
        rtol: 1e-5,
        seed: rows + k,
      });
      backward(loss, fromArray(gpu, [0.7], [1]));
      // softmax = exp(x − lse): x − lse carries an absolute error of about ulp(|x|), which is
      // a relative error of up to 6e-5 on p when |x| is 1000.
      assertAllClose(await logits.grad!.read(), crossEntropyBackwardRef(x, y, k, 0.7), {
        atol: 1e-7,
        rtol: 1e-4,
        seed: rows + k,
      });
      logits.grad!.dispose();
    },
  );
}

gpuTest("crossEntropy() handles masked -1e4 logits and a confident row", async (gpu) => {
  const x = Float64Array.of(-1e4, 2, -1e4, 50, -50, 0, 0, 0, 0);
  const y = Int32Array.of(1, 0, 2);
  const logits = fromArray(gpu, x, [3, 3]);
  const loss = crossEntropy({ logits }, { labels: fromArray(gpu, y, [3], { dtype: "i32" }) });
  assertAllClose(await loss.read(), [crossEntropyForwardRef(x, y, 3)], { atol: 1e-6, rtol: 1e-6 });
});

gpuTest("normalizedEntropy() matches float64 reference and its limits", async (gpu) => {
  const rng = new Rng(9);
  for (const [rows, k] of [[13, 769], [300, 3], [5, 2]]) {
    const x = rng.array(rows * k, -4, 4);
    const h = normalizedEntropy(fromArray(gpu, x, [rows, k]));
    assertAllClose(await h.read(), normalizedEntropyRef(x, k), { atol: 1e-6, rtol: 1e-5 });
    const h2 = normalizedEntropy(fromArray(gpu, x, [rows, k]), { eps: 1e-5 });
    assertAllClose(await h2.read(), normalizedEntropyRef(x, k, 1e-5), { atol: 1e-6, rtol: 1e-5 });
  }
  // uniform → 1, confident → 0, masked entries → 0 contribution, K = 1 → 0.
  const x = Float64Array.of(3, 3, 3, 1e4, 0, 0, -1e4, 0, 0);
  assertAllClose(await normalizedEntropy(fromArray(gpu, x, [3, 3])).read(), [
    1,
    0,
    1 / Math.log(3) * Math.log(2),
  ], {
    atol: 1e-6,
    rtol: 1e-5,
  });
  assertAllClose(await normalizedEntropy(fromArray(gpu, [5, -2], [2, 1])).read(), [0, 0]);
});

gpuTest("crossEntropy() rejects f32 labels and mismatched rows", (gpu) => {
  const logits = fromArray(gpu, [1, 2, 3, 4], [2, 2]);
  assert.throws(
    () => crossEntropy({ logits }, { labels: fromArray(gpu, [0, 1], [2]) }),
    /Cannot run "crossEntropy": "labels" is f32, expected i32/,
  );
  assert.throws(
    () => crossEntropy({ logits }, { labels: fromArray(gpu, [0, 1, 1], [3], { dtype: "i32" }) }),
    TypeError,
  );
  assert.throws(() => normalizedEntropy(fromArray(gpu, [1, 2], [2])), TypeError);
});

gpuTest(
  "crossEntropy() says where labels go when they come with the logits or not at all",
  (gpu) => {
    const logits = fromArray(gpu, [1, 2, 3, 4], [2, 2]);
    const labels = fromArray(gpu, [0, 1], [2], { dtype: "i32" });
    const inputs = { logits, labels } as unknown as { logits: typeof logits };
    assert.throws(
      () => crossEntropy(inputs),
      /^TypeError: Cannot run "crossEntropy": "labels" goes in the options, as crossEntropy\(\{ logits \}, \{ labels \}\)$/,
    );
    assert.throws(
      () => crossEntropy({ logits }, {} as { labels: typeof labels }),
      /^TypeError: Cannot run "crossEntropy": "labels" is missing; expected an i32 tensor$/,
    );
    assert.throws(
      () => crossEntropy({ logits }, { labels: [0, 1] as unknown as typeof labels }),
      /"labels" is object, not a tensor; expected an i32 tensor$/,
    );
  },
);

Deno.test("crossEntropy reference passes gradcheck", () => {
  const rng = new Rng(4);
  const k = 5, y = labelsFor(rng, 6, k);
  gradcheck(
    ([x]) => Float64Array.of(crossEntropyForwardRef(x, y, k)),
    ([x], d) => [crossEntropyBackwardRef(x, y, k, d[0])],
    [rng.array(6 * k, -3, 3)],
  );
});
