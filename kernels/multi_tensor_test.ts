import assert from "node:assert/strict";
import { adamwRef, type AdamWStep } from "./adamw.ts";
import { globalNormRef } from "./global_norm.ts";
import { MAX_GROUP } from "./multi_tensor.ts";
import { AdamW } from "../lib/optim/adamw.ts";
import { clipGradNorm } from "../lib/optim/clip.ts";
import { zeroGrad } from "../lib/optim/zero_grad.ts";
import { SMALL_TENSOR } from "../lib/ops/foreach.ts";
import { fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { Rng } from "../tests/_util/rng.ts";

// More small tensors than one group holds (odd sizes, one at the small limit), and two large
// ones that keep their own dispatches.
const SIZES = [1, 7, 2, 300, 1031, 64, 3, SMALL_TENSOR, 5, 129, 4, 33, SMALL_TENSOR + 4, 70_001];

function params(
  gpu: Gpu,
  rng: Rng,
): { tensors: Tensor[]; grads: Float64Array[]; p0: Float64Array[] } {
  const p0 = SIZES.map((n) => rng.array(n));
  const grads = SIZES.map((n) => rng.array(n, -0.5, 0.5));
  const tensors = p0.map((p, i) => {
    const t = fromArray(gpu, p, [p.length], { persistent: true });
    t.grad = fromArray(gpu, grads[i], [p.length], { persistent: true });
    return t;
  });
  return { tensors, grads, p0 };
}

function release(ts: Tensor[]): void {
  for (const t of ts) {
    t.grad?.dispose();
    t.dispose();
  }
}

gpuTest(
  "multi-tensor clipping and norm match the float64 reference over groups of small tensors",
  async (gpu) => {
    assert.ok(SIZES.filter((n) => n <= SMALL_TENSOR).length > MAX_GROUP, "more than one group");
    const { tensors, grads } = params(gpu, new Rng(3));
    const norm = clipGradNorm(tensors, 0.5);
    const expected = globalNormRef(grads);
    assertAllClose(await norm.read(), [expected], { atol: 1e-6, rtol: 1e-5 });
    const coef = 0.5 / (expected + 1e-6);
    for (let i = 0; i < SIZES.length; i++) {
      assertAllClose(await tensors[i].grad!.read(), grads[i].map((g) => g * coef), {
        atol: 1e-7,
        rtol: 1e-5,
        label: `grad ${i} (${SIZES[i]})`,
      });
    }
    zeroGrad(tensors);
    for (let i = 0; i < SIZES.length; i++) {
      assert.ok((await tensors[i].grad!.readFloat()).every((v) => v === 0), `zeroed ${SIZES[i]}`);
    }
    release(tensors);
  },
);

gpuTest(
  "multi-tensor AdamW matches the float64 reference per parameter, with its own step count and decay",
  async (gpu) => {
    const rng = new Rng(4);
    const { tensors, grads, p0 } = params(gpu, rng);
    const decays = SIZES.map((_, i) => (i % 3 === 0 ? 0 : 0.01));
    const opt = new AdamW(tensors.map((param, i) => ({ param, weightDecay: decays[i] })), {
      lr: 1e-3,
      eps: 1e-6,
    });
    const ref = p0.map((p) => Float64Array.from(p));
    const m = SIZES.map((n) => new Float64Array(n)), v = SIZES.map((n) => new Float64Array(n));
    const steps = SIZES.map(() => 0);
    for (let t = 0; t < 3; t++) {
      // At step 1 parameter 2 has no gradient: it is skipped and keeps its own count.
      const skipped = t === 1 ? 2 : -1;
      const saved = tensors[2].grad;
      if (skipped === 2) tensors[2].grad = null;
      const g = grads.map((x) => x.map((y) => y * (t + 1)));
      tensors.forEach((p, i) => p.grad?.write(Float32Array.from(g[i])));
      opt.step(1e-3 * (t + 1));
      tensors[2].grad = saved;
      for (let i = 0; i < SIZES.length; i++) {
        if (i === skipped) continue;
        const s: AdamWStep = {
          lr: 1e-3 * (t + 1),
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-6,
          weightDecay: decays[i],
          step: ++steps[i],
        };
        adamwRef(ref[i], Float64Array.from(Float32Array.from(g[i])), m[i], v[i], s);
      }
    }
    for (let i = 0; i < SIZES.length; i++) {
      assertAllClose(await tensors[i].read(), ref[i], {
        atol: 1e-6,
        rtol: 1e-5,
        label: `param ${i} (${SIZES[i]})`,
      });
    }
    const state = await opt.state();
    assert.equal(state.params[2]!.step, 2);
    assert.equal(state.params[3]!.step, 3);
    opt.dispose();
    release(tensors);
  },
);
