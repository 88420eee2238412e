import assert from "node:assert/strict";
import { mseBackwardRef, mseForwardRef } from "./mse.ts";
import { mseLoss } from "../lib/ops/mse.ts";
import { fromArray } from "../lib/autograd/tensor.ts";
import { backward } from "../lib/autograd/backward.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { gradcheck } from "../tests/_util/gradcheck.ts";
import { Rng } from "../tests/_util/rng.ts";

// [N, input rank]: not a multiple of the workgroup, the two-pass mean, and an [N, 1] head.
for (const [n, rank] of [[769, 1], [50_001, 1], [13, 2]]) {
  gpuTest(`mseLoss() forward and backward match float64 reference at N=${n}`, async (gpu) => {
    const rng = new Rng(n);
    const x = rng.array(n, -5, 5), t = rng.array(n, 0, 5);
    const input = fromArray(gpu, x, rank === 1 ? [n] : [n, 1]);
    input.requiresGrad = true;
    const target = fromArray(gpu, t, [n]);
    const loss = mseLoss({ input }, { target });
    // f32 squares summed over N: 1e-5 relative covers the rounding of 5e4 terms.
    assertAllClose(await loss.read(), [mseForwardRef(x, t)], { atol: 1e-5, rtol: 1e-5, seed: n });
    backward(loss, fromArray(gpu, [1.5], [1]));
    assert.deepEqual(input.grad!.shape, input.shape);
    assertAllClose(await input.grad!.read(), mseBackwardRef(x, t, 1.5), {
      atol: 1e-8,
      rtol: 1e-5,
      seed: n,
    });
    input.grad!.dispose();
  });
}

gpuTest("mseLoss() rejects [N, 2] inputs, mismatched N and i32 targets", (gpu) => {
  const input = fromArray(gpu, [1, 2, 3, 4], [2, 2]);
  const target = fromArray(gpu, [1, 2], [2]);
  assert.throws(() => mseLoss({ input }, { target }), /Cannot run "mseLoss": "input" is \[2, 2\]/);
  const x = fromArray(gpu, [1, 2, 3], [3]);
  assert.throws(() => mseLoss({ input: x }, { target }), TypeError);
  const ti = fromArray(gpu, [1, 2, 3], [3], { dtype: "i32" });
  assert.throws(() => mseLoss({ input: x }, { target: ti }), /"target" is i32, expected f32/);
});

Deno.test("mse reference passes gradcheck", () => {
  const rng = new Rng(8);
  const t = rng.array(7);
  gradcheck(
    ([x]) => Float64Array.of(mseForwardRef(x, t)),
    ([x], d) => [mseBackwardRef(x, t, d[0])],
    [rng.array(7)],
  );
});
