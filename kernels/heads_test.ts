import assert from "node:assert/strict";
import { swapMiddleRef } from "./heads.ts";
import { mergeHeads, splitHeads } from "../lib/ops/heads.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { backward } from "../lib/autograd/backward.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

// [B, T, NH, HS]: odd sizes, and BERT-base heads over many workgroups.
const CASES: [number, number, number, number][] = [[2, 13, 3, 7], [3, 129, 12, 64]];

for (const [b, t, nh, hs] of CASES) {
  gpuTest(
    `splitHeads() and mergeHeads() move data like the reference at [${b}, ${t}, ${nh}·${hs}]`,
    async (gpu) => {
      const rng = new Rng(t);
      // Values rounded to f32 first: a copy must be exact.
      const x = Float64Array.from(Float32Array.from(rng.array(b * t * nh * hs)));
      const xt = fromArray(gpu, x, [b, t, nh * hs]);
      xt.requiresGrad = true;
      const s = splitHeads({ x: xt }, { heads: nh });
      assert.deepEqual(s.shape, [b, nh, t, hs]);
      const expected = swapMiddleRef(x, [b, t, nh, hs]);
      assertAllClose(await s.read(), expected, { atol: 0, rtol: 0 });
      const m = mergeHeads({ x: s });
      assert.deepEqual(m.shape, [b, t, nh * hs]);
      assertAllClose(await m.read(), x, { atol: 0, rtol: 0 });
      // Backward of split is merge of dout, and backward of merge is split of dout.
      const d = Float64Array.from(Float32Array.from(rng.array(x.length)));
      backward(s, fromArray(gpu, d, s.shape));
      assertAllClose(await xt.grad!.read(), swapMiddleRef(d, [b, nh, t, hs]), { atol: 0, rtol: 0 });
      const y = fromArray(gpu, d, [b, nh, t, hs]);
      y.requiresGrad = true;
      backward(mergeHeads({ x: y }), fromArray(gpu, x, [b, t, nh * hs]));
      assertAllClose(await y.grad!.read(), expected, { atol: 0, rtol: 0 });
      y.grad!.dispose();
      xt.grad!.dispose();
    },
  );
}

gpuTest("splitHeads() copies i32 tensors bit for bit, one word or four at a time", async (gpu) => {
  for (const hs of [2, 4]) {
    const x = Int32Array.from({ length: 2 * 3 * 2 * hs }, (_, i) => i * 1_000_003 - 7);
    const xt = fromArray(gpu, x, [2, 3, 2 * hs], { dtype: "i32" });
    const s = splitHeads({ x: xt }, { heads: 2 });
    assert.equal(s.dtype, "i32");
    const expected = swapMiddleRef(Float64Array.from(x), [2, 3, 2, hs]);
    assert.deepEqual([...await s.read()], [...expected]);
  }
});

gpuTest("splitHeads() rejects channels that do not divide into heads", (gpu) => {
  const x = fromArray(gpu, new Float32Array(2 * 3 * 10), [2, 3, 10]);
  assert.throws(
    () => splitHeads({ x }, { heads: 3 }),
    /Cannot run "splitHeads": "x" has 10 channels/,
  );
  assert.throws(() => mergeHeads({ x }), TypeError);
});

Deno.test("head split reference passes gradcheck", () => {
  const dims = [2, 3, 4, 2] as const;
  gradcheck(
    ([x]) => swapMiddleRef(x, dims),
    (_, d) => [swapMiddleRef(d, [dims[0], dims[2], dims[1], dims[3]])],
    [new Rng(1).array(48)],
  );
});
