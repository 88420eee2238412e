import assert from "node:assert/strict";
import { BertForSequenceClassification } from "../nn/bert/sequence_classification.ts";
import { AdamW } from "../optim/adamw.ts";
import { clipGradNorm } from "../optim/clip.ts";
import { zeroGrad } from "../optim/zero_grad.ts";
import { backward } from "./backward.ts";
import { noGrad } from "./grad_mode.ts";
import { looseCount, releaseTemporaries, withScope } from "./scope.ts";
import { fromArray } from "./tensor.ts";
import { gpuTest, gpuTestUnscoped } from "../../tests/_util/gpu.ts";
import { randomHostBatch } from "../../tests/_util/data.ts";
import type { Gpu } from "../gpu/device.ts";

const TINY = new URL("../../tests/fixtures/tiny_bert", import.meta.url).pathname;
const batch = randomHostBatch({ B: 4, S: 12, vocab: 512 });

async function model(gpu: Gpu) {
  return (await BertForSequenceClassification.fromPretrained(gpu, TINY, { numLabels: 2 })).model;
}

/** Runs a full collection, then lets the finalizers run (the test task exposes `gc`). */
async function collect(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "run the tests with --v8-flags=--expose-gc (deno task test does)");
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 0));
  }
}

gpuTestUnscoped(
  "no-grad forwards outside any scope free their intermediates at once",
  async (gpu) => {
    const m = await model(gpu);
    const live: number[] = [];
    for (let i = 0; i < 20; i++) {
      const { logits, loss } = await noGrad(() => m.forward(batch));
      assert.equal((await logits.readFloat()).length, 8);
      logits.dispose();
      loss?.dispose();
      live.push(gpu.pool.stats().liveBytes);
    }
    assert.equal(live[19], live[1], `live bytes grew: ${live.join(", ")}`);
    m.dispose();
  },
);

gpuTestUnscoped("using disposes a tensor at the end of its block", async (gpu) => {
  const before = gpu.pool.stats().liveBytes;
  {
    using t = fromArray(gpu, [1, 2, 3], [3]);
    assert.deepEqual(Array.from(await t.readFloat()), [1, 2, 3]);
  }
  assert.equal(gpu.pool.stats().liveBytes, before);
});

gpuTestUnscoped(
  "releaseTemporaries frees every tensor made outside a scope, in one call",
  async (gpu) => {
    const m = await model(gpu);
    await noGrad(() => m.forward(batch)); // warm the pool
    releaseTemporaries(gpu);
    const base = gpu.pool.stats().liveBytes;
    const outs = [];
    for (let i = 0; i < 5; i++) outs.push(m.forward(batch)); // grad mode: graphs wait for backward
    const loose = fromArray(gpu, [1, 2], [2]);
    assert.ok(gpu.pool.stats().liveBytes > base);
    assert.ok(releaseTemporaries(gpu) > 0);
    assert.equal(gpu.pool.stats().liveBytes, base);
    assert.equal(looseCount(gpu), 0);
    assert.ok(outs[0].logits.disposed);
    assert.ok(loose.disposed);
    m.dispose();
  },
);

gpuTestUnscoped("tensors nobody references are freed by the garbage collector", async (gpu) => {
  const m = await model(gpu);
  await noGrad(() => m.forward(batch));
  await collect();
  const base = gpu.pool.stats().liveBytes;
  for (let i = 0; i < 10; i++) await noGrad(() => m.forward(batch)); // outputs dropped unread
  assert.ok(gpu.pool.stats().liveBytes > base);
  await collect();
  assert.equal(gpu.pool.stats().liveBytes, base);
  m.dispose();
});

gpuTestUnscoped("a training loop without scopes keeps memory flat", async (gpu) => {
  const m = (await model(gpu)).train();
  const optimizer = new AdamW(m, { lr: 1e-3 });
  const live: number[] = [];
  for (let step = 0; step < 8; step++) {
    const { loss } = m.forward(batch);
    backward(loss!);
    clipGradNorm(m, 1.0);
    optimizer.step();
    zeroGrad(m);
    await collect();
    live.push(gpu.pool.stats().liveBytes);
  }
  assert.equal(live[7], live[2], `live bytes grew: ${live.join(", ")}`);
  optimizer.dispose();
  m.dispose();
});

gpuTestUnscoped(
  "backward frees the forward's intermediates; its outputs stay readable",
  async (gpu) => {
    const m = (await model(gpu)).train();
    const base = gpu.pool.stats().liveBytes;
    const out = m.forward(batch);
    const during = gpu.pool.stats().liveBytes;
    backward(out.loss!);
    zeroGrad(m, { setToNone: true });
    assert.ok(gpu.pool.stats().liveBytes < during);
    assert.equal((await out.logits.readFloat()).length, 8);
    out.logits.dispose();
    out.loss!.dispose();
    assert.equal(gpu.pool.stats().liveBytes, base);
    m.dispose();
  },
);

gpuTest("inside a scope, model forwards leave ownership to the scope", async (gpu) => {
  const m = await model(gpu);
  const base = gpu.pool.stats().liveBytes;
  await withScope(gpu, () => {
    m.forward(batch);
    assert.equal(looseCount(gpu), 0);
  });
  assert.equal(gpu.pool.stats().liveBytes, base);
  m.dispose();
});
