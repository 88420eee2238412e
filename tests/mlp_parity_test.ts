/**
 * The autograd engine, the kernels and AdamW together against PyTorch: a 2-layer GELU MLP
 * trained 5 steps with transformers-2.11 AdamW (weight decay on weights, none on biases).
 * Fixture: tests/fixtures/make_fixtures.py.
 */
import assert from "node:assert/strict";
import { backward } from "../lib/autograd/backward.ts";
import { zeroGrad } from "../lib/optim/zero_grad.ts";
import { withScope } from "../lib/autograd/scope.ts";
import { fromArray, type Tensor } from "../lib/autograd/tensor.ts";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { toFloat32 } from "../lib/io/host_tensor.ts";
import { crossEntropy } from "../lib/ops/cross_entropy.ts";
import { gelu } from "../lib/ops/gelu.ts";
import { linear } from "../lib/ops/linear.ts";
import { AdamW } from "../lib/optim/adamw.ts";
import type { Gpu } from "../lib/gpu/device.ts";
import { gpuTest } from "./_util/gpu.ts";
import { assertAllClose, relMaxError } from "./_util/allclose.ts";

const FIXTURE = new URL("./fixtures/mlp/", import.meta.url).pathname;

async function setup(gpu: Gpu) {
  const { stateDict } = await readSafetensors(`${FIXTURE}mlp.safetensors`);
  const host = (k: string) => {
    const t = stateDict.get(k);
    if (!t) throw new Error(`fixture lacks "${k}"`);
    return t;
  };
  const names = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"];
  const params: Record<string, Tensor> = {};
  for (const n of names) {
    const t = host(`init.${n}`);
    params[n] = fromArray(gpu, toFloat32(t), t.shape, { persistent: true });
    params[n].requiresGrad = true;
    params[n].name = n;
  }
  const xs = host("x");
  const x = fromArray(gpu, toFloat32(xs), xs.shape, { persistent: true });
  const lh = host("labels");
  const labels = fromArray(gpu, new Int32Array(lh.data.buffer, lh.data.byteOffset, lh.shape[0]), [
    lh.shape[0],
  ], { dtype: "i32", persistent: true });
  const final = (n: string) => toFloat32(host(`final.${n}`));
  return { params, x, labels, final, names };
}

function step(p: Record<string, Tensor>, x: Tensor, labels: Tensor): Tensor {
  const h = gelu({ x: linear({ x, weight: p["fc1.weight"], bias: p["fc1.bias"] }) });
  const logits = linear({ x: h, weight: p["fc2.weight"], bias: p["fc2.bias"] });
  return crossEntropy({ logits }, { labels });
}

gpuTest("a GELU MLP trained 5 AdamW steps matches PyTorch", async (gpu) => {
  const { params, x, labels, final, names } = await setup(gpu);
  const expected = JSON.parse(await Deno.readTextFile(`${FIXTURE}losses.json`));
  const opt = new AdamW(
    names.map((n) => ({
      param: params[n],
      weightDecay: n.endsWith("bias") ? 0 : expected.weight_decay,
    })),
    { lr: expected.lr },
  );
  const losses: number[] = [];
  for (let i = 0; i < 5; i++) {
    await withScope(gpu, async () => {
      const loss = step(params, x, labels);
      losses.push((await loss.readFloat())[0]);
      backward(loss);
      opt.step();
      zeroGrad(Object.values(params));
    });
  }
  losses.forEach((l, i) => {
    const rel = Math.abs(l - expected.losses[i]) / Math.abs(expected.losses[i]);
    assert.ok(rel <= 1e-5, `step ${i}: loss ${l} vs ${expected.losses[i]} (rel ${rel})`);
  });
  for (const n of names) {
    const got = await params[n].readFloat();
    assertAllClose(got, final(n), { atol: 1e-4, rtol: 0, label: n });
    assert.ok(relMaxError(got, final(n)) < 1e-3, n);
  }
  for (const t of [...Object.values(params), x, labels]) {
    t.grad?.dispose();
    t.dispose();
  }
  opt.dispose?.();
});

gpuTest("1000 training steps leave live GPU bytes where they started", async (gpu) => {
  const { params, x, labels, names } = await setup(gpu);
  const opt = new AdamW(names.map((n) => ({ param: params[n], weightDecay: 0.01 })), { lr: 1e-3 });
  // The first step allocates gradients and optimizer state, which persist by design.
  const run = () =>
    withScope(gpu, () => {
      backward(step(params, x, labels));
      opt.step();
      zeroGrad(Object.values(params));
    });
  await run();
  await gpu.sync();
  const start = gpu.pool.stats().liveBytes;
  for (let i = 0; i < 1000; i++) {
    await run();
    if (i % 100 === 0) await gpu.sync();
  }
  await gpu.sync();
  assert.equal(gpu.pool.stats().liveBytes, start);
  for (const t of [...Object.values(params), x, labels]) {
    t.grad?.dispose();
    t.dispose();
  }
  opt.dispose?.();
});
