import assert from "node:assert/strict";
import { clipCoefRef, globalNormRef } from "./global_norm.ts";
import { globalNorm } from "../lib/ops/global_norm.ts";
import { clipGradNorm } from "../lib/optim/clip.ts";
import { fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { Rng } from "../tests/_util/rng.ts";

// Sizes: single elements, not a multiple of the workgroup, and many workgroups per tensor; the
// multiples of 4 (not of the workgroup) take the vec4 kernels.
const SIZES = [1, 2, 769, 3 * 1024 + 5, 300_007, 1_028, 4 * 1031, 300_004];

// f32 sums of squares of ~3e5 values: 1e-5 relative is well above the rounding of the tree.
const TOL = { atol: 1e-6, rtol: 1e-5 };

gpuTest("globalNorm() matches the float64 L2 norm over many tensors", async (gpu) => {
  const rng = new Rng(6);
  const data = SIZES.map((n) => rng.array(n, -2, 2));
  const norm = globalNorm(data.map((d) => fromArray(gpu, d, [d.length])));
  assert.deepEqual(norm.shape, [1]);
  assertAllClose(await norm.read(), [globalNormRef(data)], { ...TOL, seed: 6 });
  assertAllClose(await globalNorm([], gpu).read(), [0]);
  // Extreme values: squares near the top of the f32 range (1e36) still give the right norm.
  const big = globalNorm([fromArray(gpu, [1e18, 1], [2]), fromArray(gpu, [1e-20], [1])]);
  assertAllClose(await big.read(), [1e18], { atol: 0, rtol: 1e-6 });
});

function withGrads(gpu: Gpu, grads: Float64Array[]): Tensor[] {
  return grads.map((g) => {
    const p = fromArray(gpu, new Float64Array(g.length), [g.length]);
    p.grad = fromArray(gpu, g, [g.length]);
    return p;
  });
}

for (const maxNorm of [0.5, 1e6]) {
  gpuTest(
    `clipGradNorm() scales gradients like clip_grad_norm_ at maxNorm=${maxNorm}`,
    async (gpu) => {
      const rng = new Rng(8);
      const grads = SIZES.map((n) => rng.array(n, -1, 1));
      const params: Tensor[] = withGrads(gpu, grads);
      params.push(fromArray(gpu, [1, 2, 3], [3])); // frozen: no gradient
      const readbacks = gpu.recorder.stats.readbacks;
      const norm = clipGradNorm(params, maxNorm);
      assert.equal(gpu.recorder.stats.readbacks, readbacks, "clipping must not read back");
      const expected = globalNormRef(grads);
      assertAllClose(await norm.read(), [expected], { ...TOL, seed: 8 });
      const coef = clipCoefRef(expected, maxNorm);
      for (let i = 0; i < grads.length; i++) {
        assertAllClose(await params[i].grad!.read(), grads[i].map((g) => g * coef), {
          ...TOL,
          seed: 8,
          label: `grad ${i}`,
        });
      }
      assert.equal(params[SIZES.length].grad, null);
    },
  );
}

gpuTest("clipGradNorm() rejects a non-positive maxNorm and globalNorm() i32 tensors", (gpu) => {
  const params = withGrads(gpu, [Float64Array.of(1, 2)]);
  assert.throws(() => clipGradNorm(params, 0), RangeError);
  assert.throws(() => clipGradNorm([], 1), TypeError);
  const i = fromArray(gpu, [1, 2], [2], { dtype: "i32" });
  assert.throws(() => globalNorm([i]), /Cannot run "globalNorm": "tensors\[0\]" is i32/);
});

Deno.test("clip coefficient reference follows clip_grad_norm_", () => {
  assert.equal(clipCoefRef(0.5, 1), 1);
  assertAllClose([clipCoefRef(4, 1)], [1 / (4 + 1e-6)], { atol: 0, rtol: 1e-15 });
  assert.equal(globalNormRef([[3], [4]]), 5);
});
