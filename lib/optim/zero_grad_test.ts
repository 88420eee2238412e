import assert from "node:assert/strict";
import { fromArray, type Tensor } from "../autograd/tensor.ts";
import { statsSince } from "../gpu/recorder.ts";
import type { Gpu } from "../gpu/device.ts";
import { SMALL_TENSOR } from "../ops/foreach.ts";
import { AdamW } from "./adamw.ts";
import { zeroGrad } from "./zero_grad.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { Rng } from "../../tests/_util/rng.ts";

/** A persistent parameter of `n` random values with a random persistent gradient. */
function withGrad(gpu: Gpu, rng: Rng, n: number): Tensor {
  const p = fromArray(gpu, rng.array(n), [n], { persistent: true });
  p.grad = fromArray(gpu, rng.array(n, -0.5, 0.5), [n], { persistent: true });
  return p;
}

gpuTest(
  "zeroGrad records no dispatch and keeps the same gradients, which read as zeros",
  async (gpu) => {
    const rng = new Rng(11);
    const ps = [3, 1000, SMALL_TENSOR + 5].map((n) => withGrad(gpu, rng, n));
    const grads = ps.map((p) => p.grad);
    const before = { ...gpu.recorder.stats };
    zeroGrad(ps);
    assert.equal(statsSince(before, gpu.recorder.stats).dispatches, 0);
    for (const [i, p] of ps.entries()) {
      assert.equal(p.grad, grads[i]);
      assert.ok((await p.grad!.readFloat()).every((v) => v === 0), `grad ${i} reads as zeros`);
    }
    for (const t of ps.flatMap((p) => [p, p.grad!])) t.dispose();
  },
);

gpuTest(
  "AdamW steps a parameter whose gradient zeroGrad left as with a zero gradient",
  async (gpu) => {
    // Two copies of one parameter with the same first gradient, so their moments are not zero;
    // then one gets zeroGrad's pending zeros, the other zeros written by hand.
    const rng = new Rng(12);
    const p0 = rng.array(37), g0 = rng.array(37, -0.5, 0.5);
    const [a, b] = [0, 1].map(() => {
      const p = fromArray(gpu, p0, [37], { persistent: true });
      p.grad = fromArray(gpu, g0, [37], { persistent: true });
      return p;
    });
    const opt = new AdamW([a, b], { lr: 0.1, weightDecay: 0.01 });
    opt.step();
    const after1 = await a.readFloat();
    zeroGrad([a]);
    b.grad!.write(new Float32Array(37));
    assert.equal(a.grad!.pendingFill, 0);
    opt.step();
    const [pa, pb] = [await a.readFloat(), await b.readFloat()];
    assert.deepEqual(pa, pb);
    assert.ok(pa.some((v, i) => v !== after1[i]), "decay and momentum still move the parameter");
    opt.dispose();
    for (const t of [a, b, a.grad!, b.grad!]) t.dispose();
  },
);
