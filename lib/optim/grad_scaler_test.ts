import assert from "node:assert/strict";
import { GradScaler } from "./grad_scaler.ts";
import { AdamW } from "./adamw.ts";
import { clipCoefRef, globalNormRef } from "../../kernels/global_norm.ts";
import { withAutocast } from "../autograd/autocast.ts";
import { backward } from "../autograd/backward.ts";
import { fromArray, type Tensor } from "../autograd/tensor.ts";
import type { Gpu } from "../gpu/device.ts";
import { linear } from "../ops/linear.ts";
import { sum } from "../ops/reduce.ts";
import { assertAllClose } from "../../tests/_util/allclose.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { Rng } from "../../tests/_util/rng.ts";

function withGrad(
  gpu: Gpu,
  value: ArrayLike<number>,
  grad: ArrayLike<number>,
  shape = [value.length],
): Tensor {
  const p = fromArray(gpu, value, shape, { persistent: true });
  p.requiresGrad = true;
  p.grad = fromArray(gpu, grad, shape, { persistent: true });
  return p;
}

gpuTest(
  "GradScaler.unscaleAndClip() divides by the scale and clips the unscaled norm",
  async (gpu) => {
    const seed = 61, rng = new Rng(seed);
    const g1 = rng.array(1001, -3, 3), g2 = rng.array(70, -3, 3);
    const scaler = new GradScaler({ initScale: 1024 });
    const params = [
      withGrad(gpu, g1, g1.map((v) => v * 1024)),
      withGrad(
        gpu,
        g2,
        g2.map((v) => v * 1024),
      ),
    ];
    const { norm, finite } = await scaler.unscaleAndClip(params, 1.0);
    assert.equal(finite, true);
    const refNorm = globalNormRef([g1, g2]);
    assert.ok(Math.abs(norm - refNorm) <= 1e-5 * refNorm, `norm ${norm} vs ${refNorm}`);
    const coef = clipCoefRef(refNorm, 1.0);
    assert.ok(coef < 1, "the test must exercise clipping");
    assertAllClose(await params[0].grad!.read(), g1.map((v) => v * coef), { rtol: 1e-5, seed });
    assertAllClose(await params[1].grad!.read(), g2.map((v) => v * coef), { rtol: 1e-5, seed });
    for (const p of params) {
      p.grad!.dispose();
      p.dispose();
    }
  },
);

gpuTest(
  "GradScaler skips the optimizer step and halves the scale on an inf gradient",
  async (gpu) => {
    const scaler = new GradScaler({ initScale: 2 ** 16 });
    const p = withGrad(gpu, [1, 2, 3], [1, Infinity, 3]);
    const q = withGrad(gpu, [4, 5], [NaN, 1]);
    const opt = new AdamW([{ param: p, weightDecay: 0 }, { param: q, weightDecay: 0 }], {
      lr: 0.1,
    });
    const { finite, norm } = await scaler.unscaleAndClip([p, q], 1.0);
    assert.equal(finite, false);
    assert.ok(!Number.isFinite(norm));
    if (finite) opt.step();
    scaler.update(finite);
    assert.equal(scaler.scale, 2 ** 15);
    assert.equal(scaler.skippedSteps, 1);
    assert.equal(opt.stepCount, 0);
    assert.deepEqual([...await p.read()], [1, 2, 3]);
    assert.deepEqual([...await q.read()], [4, 5]);
    opt.dispose();
    for (const t of [p, q]) {
      t.grad!.dispose();
      t.dispose();
    }
  },
);

gpuTest("GradScaler detects an f16 overflow in a mixed-precision backward", async (gpu) => {
  // dout of sum() is 1; scaled by 2^17 it exceeds f16's 65504 when linear's backward casts it.
  const rng = new Rng(62);
  const x = fromArray(gpu, rng.array(8 * 16), [8, 16]);
  const w = withGrad(gpu, rng.array(4 * 16), new Float64Array(4 * 16), [4, 16]);
  for (const [initScale, expected] of [[2 ** 17, false], [2 ** 15, true]] as const) {
    const scaler = new GradScaler({ initScale });
    const loss = await withAutocast(gpu, () => sum({ x: linear({ x, weight: w }) }));
    backward(scaler.scaleLoss(loss));
    const { finite } = await scaler.unscaleAndClip([w], 0);
    assert.equal(finite, expected, `scale ${initScale}`);
    if (finite) {
      // Unscaled: dW[o, i] = Σ_rows x[r, i] (f16-rounded x, f32 sums).
      const xs = await x.read(), dw = await w.grad!.read();
      for (let i = 0; i < 16; i++) {
        let s = 0;
        for (let r = 0; r < 8; r++) s += xs[r * 16 + i];
        assert.ok(Math.abs(dw[i] - s) <= 8 * 2 ** -11, `dW[0, ${i}] ${dw[i]} vs ${s}`);
      }
    }
    w.grad!.write(new Float64Array(4 * 16));
  }
  w.grad!.dispose();
  w.dispose();
});

Deno.test("GradScaler grows the scale after growthInterval clean steps in a row", () => {
  const scaler = new GradScaler({ initScale: 8, growthInterval: 3 });
  scaler.update(true);
  scaler.update(true);
  assert.equal(scaler.scale, 8);
  scaler.update(false); // an overflow resets the count
  assert.equal(scaler.scale, 4);
  for (let i = 0; i < 2; i++) scaler.update(true);
  assert.equal(scaler.scale, 4);
  scaler.update(true);
  assert.equal(scaler.scale, 8);
  assert.equal(scaler.growthTracker, 0);
});

Deno.test("GradScaler state round-trips through JSON with PyTorch's keys", () => {
  const a = new GradScaler({ initScale: 2 ** 10, growthInterval: 5 });
  a.update(false);
  a.update(true);
  a.update(true);
  const json = JSON.parse(JSON.stringify(a.state()));
  assert.deepEqual(json, {
    scale: 2 ** 9,
    growth_factor: 2,
    backoff_factor: 0.5,
    growth_interval: 5,
    _growth_tracker: 2,
  });
  const b = new GradScaler({ growthInterval: 5 });
  b.loadState(json);
  assert.deepEqual(b.state(), a.state());
  for (let i = 0; i < 3; i++) {
    a.update(true);
    b.update(true);
  }
  assert.equal(b.scale, 2 ** 10);
  assert.deepEqual(b.state(), a.state());
  assert.throws(() => b.loadState({ ...json, scale: -1 }), TypeError);
});

Deno.test("GradScaler rejects bad settings with a one-line RangeError", () => {
  const bad = (o: ConstructorParameters<typeof GradScaler>[0], re: RegExp) =>
    assert.throws(() => new GradScaler(o), (e) => e instanceof RangeError && re.test(e.message));
  bad({ initScale: 0 }, /^Cannot create GradScaler: initScale is 0, expected a number > 0$/);
  bad({ growthFactor: 1 }, /growthFactor is 1, expected a number > 1/);
  bad({ backoffFactor: 1.5 }, /backoffFactor is 1.5, expected a number in \(0, 1\)/);
  bad({ growthInterval: 0.5 }, /growthInterval is 0.5, expected an integer ≥ 1/);
});
