import assert from "node:assert/strict";
import { adamwRef, type AdamWStep } from "./adamw.ts";
import { clipCoefRef, globalNormRef } from "./global_norm.ts";
import { AdamW } from "../lib/optim/adamw.ts";
import { clipGradNorm } from "../lib/optim/clip.ts";
import { statsSince } from "../lib/gpu/recorder.ts";
import { fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import { gpuTest } from "../tests/_util/gpu.ts";
import { assertAllClose } from "../tests/_util/allclose.ts";
import { Rng } from "../tests/_util/rng.ts";

function param(gpu: Gpu, data: Float64Array, grad?: Float64Array): Tensor {
  const p = fromArray(gpu, data, [data.length], { persistent: true });
  if (grad) p.grad = fromArray(gpu, grad, [data.length], { persistent: true });
  return p;
}

function release(...ts: Tensor[]): void {
  for (const t of ts) {
    t.grad?.dispose();
    t.dispose();
  }
}

// Over a few steps each f32 update carries a relative error of a few ulps of step_size·m/√v;
// 1e-6 absolute on O(1) parameters and 1e-5 relative on the moments is far above that.
const TOL = { atol: 1e-6, rtol: 1e-5 };

// 769 and 100_003 take the scalar kernel, 1_028 and 65_540 (not multiples of 1024) the vec4 one.
for (const n of [769, 100_003, 1_028, 65_540]) {
  gpuTest(`AdamW.step() matches the float64 transformers-2.11 reference at n=${n}`, async (gpu) => {
    const rng = new Rng(n);
    const lrs = [1e-3, 5e-4, 0, 2e-3];
    for (const wd of [0, 0.01]) {
      const p0 = rng.array(n), grads = lrs.map(() => rng.array(n, -0.1, 0.1));
      const p = param(gpu, p0, grads[0]);
      const opt = new AdamW([{ param: p, weightDecay: wd }], { lr: 1, eps: 1e-6 });
      const ref = Float64Array.from(p0), m = new Float64Array(n), v = new Float64Array(n);
      for (let t = 0; t < lrs.length; t++) {
        p.grad!.write(Float32Array.from(grads[t]));
        opt.step(lrs[t]);
        const s: AdamWStep = {
          lr: lrs[t],
          beta1: 0.9,
          beta2: 0.999,
          eps: 1e-6,
          weightDecay: wd,
          step: t + 1,
        };
        adamwRef(ref, grads[t], m, v, s);
      }
      assertAllClose(await p.read(), ref, { ...TOL, seed: n, label: `param wd=${wd}` });
      const state = await opt.state();
      assert.equal(state.step, lrs.length);
      assert.equal(state.params[0]!.step, lrs.length);
      assertAllClose(state.params[0]!.m, m, { ...TOL, label: "m" });
      assertAllClose(state.params[0]!.v, v, { atol: 1e-9, rtol: 1e-5, label: "v" });
      opt.dispose();
      release(p);
    }
  });
}

gpuTest("AdamW.step() skips frozen parameters and counts steps per parameter", async (gpu) => {
  const rng = new Rng(1);
  const a = param(gpu, rng.array(10), rng.array(10));
  const frozen = param(gpu, rng.array(10));
  const before = await frozen.read();
  const opt = new AdamW([{ param: a, weightDecay: 0.1 }, { param: frozen, weightDecay: 0.1 }], {
    lr: 1e-2,
  });
  opt.step();
  opt.step();
  assert.deepEqual(await frozen.read(), before);
  const state = await opt.state();
  assert.equal(state.params[0]!.step, 2);
  assert.equal(state.params[1], null);
  opt.dispose();
  assert.throws(() => opt.step(), /Cannot step AdamW: it was disposed/);
  release(a, frozen);
});

gpuTest("AdamW.loadState() resumes exactly where state() left off", async (gpu) => {
  const rng = new Rng(2);
  const p0 = rng.array(300), g = rng.array(300);
  const a = param(gpu, p0, g), b = param(gpu, p0, g);
  const optA = new AdamW([{ param: a, weightDecay: 0.01 }], { lr: 1e-3 });
  optA.step();
  optA.step();
  const optB = new AdamW([{ param: b, weightDecay: 0.01 }], { lr: 1e-3 });
  b.write(await a.read());
  optB.loadState(await optA.state());
  assert.equal(optB.stepCount, 2);
  optA.step(7e-4);
  optB.step(7e-4);
  assert.deepEqual(await b.read(), await a.read());
  assert.throws(() => optB.loadState({ step: 1, params: [] }), TypeError);
  optA.dispose();
  optB.dispose();
  release(a, b);
});

gpuTest("AdamW rejects a negative learning rate, bad betas and i32 parameters", (gpu) => {
  const p = fromArray(gpu, [1, 2], [2]);
  assert.throws(() => new AdamW([{ param: p, weightDecay: 0 }], { lr: -1 }), RangeError);
  assert.throws(
    () => new AdamW([{ param: p, weightDecay: 0 }], { lr: 1, betas: [1, 0.9] }),
    RangeError,
  );
  const opt = new AdamW([{ param: p, weightDecay: 0 }], { lr: 1 });
  assert.throws(() => opt.step(Number.NaN), /Cannot step AdamW: learning rate is NaN/);
  const i = fromArray(gpu, [1, 2], [2], { dtype: "i32" });
  assert.throws(() => new AdamW([{ param: i, weightDecay: 0 }], { lr: 1 }), TypeError);
});

gpuTest(
  "AdamW.step() applies clipGradNorm's pending scaling exactly as clipping in place does",
  async (gpu) => {
    // 20_004 elements: above the multi-tensor size, so clipGradNorm leaves the scaling to AdamW;
    // 13 elements: a small gradient, scaled at once. maxNorm 0.5 is below the norm: it clips.
    const rng = new Rng(17);
    const data = [rng.array(20_004), rng.array(13)];
    const grads = data.map((d) => rng.array(d.length, -0.1, 0.1));
    const run = async (settle: boolean) => {
      const ps = data.map((d, i) => param(gpu, d, grads[i]));
      // eps 0.01, near √v: the update depends on the gradients' scale, not only their signs.
      const opt = new AdamW(ps.map((p) => ({ param: p, weightDecay: 0.01 })), {
        lr: 1e-3,
        eps: 0.01,
      });
      const before = { ...gpu.recorder.stats };
      const norm = clipGradNorm(ps, 0.5);
      if (settle) await ps[0].grad!.read(); // any use of the gradient dispatches the scaling
      opt.step();
      const dispatches = statsSince(before, gpu.recorder.stats).dispatches;
      const out = [await ps[0].read(), await ps[1].read(), await norm.read()];
      opt.dispose();
      release(...ps);
      return { out, dispatches };
    };
    const fused = await run(false), inPlace = await run(true);
    for (let i = 0; i < 2; i++) assert.deepEqual(fused.out[i], inPlace.out[i], `param ${i}`);
    assert.equal(fused.dispatches, inPlace.dispatches - 1, "no grad_clip_scale dispatch");
    // And both are the float64 reference with clip_grad_norm_'s factor.
    const coef = clipCoefRef(globalNormRef(grads), 0.5);
    assert.ok(coef < 1);
    const s = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 0.01, weightDecay: 0.01, step: 1 };
    for (let i = 0; i < 2; i++) {
      const ref = Float64Array.from(data[i]);
      const n = ref.length;
      adamwRef(ref, grads[i].map((g) => g * coef), new Float64Array(n), new Float64Array(n), s);
      assertAllClose(fused.out[i], ref, { ...TOL, label: `param ${i}` });
    }
  },
);
