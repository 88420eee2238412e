import assert from "node:assert/strict";
import { readSafetensors, writeSafetensors } from "../../io/safetensors.ts";
import { hostTensorFromFloat32, toFloat32 } from "../../io/host_tensor.ts";
import { readModelWeights } from "../state_dict.ts";
import { BertModel } from "./model.ts";
import { BertForSequenceClassification } from "./sequence_classification.ts";
import { gpuTest } from "../../../tests/_util/gpu.ts";
import { randomHostBatch } from "../../../tests/_util/data.ts";
import { assertAllClose } from "../../../tests/_util/allclose.ts";
import { Rng } from "../../../tests/_util/rng.ts";
import { backward } from "../../autograd/backward.ts";
import { fromArray, type Tensor } from "../../autograd/tensor.ts";
import { mul } from "../../ops/elementwise.ts";
import { sum } from "../../ops/reduce.ts";
import { zeroGrad } from "../../optim/zero_grad.ts";

const TINY = new URL("../../../tests/fixtures/tiny_bert", import.meta.url).pathname;

/** The tiny fixture plus a trained-looking classifier, as transformers would save it. */
async function checkpointWithHead(numLabels: number): Promise<string> {
  const dir = await Deno.makeTempDir();
  const { stateDict } = await readSafetensors(`${TINY}/model.safetensors`);
  const w = Float32Array.from({ length: numLabels * 64 }, (_, i) => Math.sin(i) / 10);
  stateDict.set("classifier.weight", hostTensorFromFloat32([numLabels, 64], w));
  stateDict.set("classifier.bias", hostTensorFromFloat32([numLabels], new Float32Array(numLabels)));
  await writeSafetensors(`${dir}/model.safetensors`, stateDict);
  const config = JSON.parse(await Deno.readTextFile(`${TINY}/config.json`));
  config.num_labels = numLabels;
  config.architectures = ["BertForSequenceClassification"];
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  return dir;
}

gpuTest(
  "BertForSequenceClassification.fromPretrained loads classifier.* (not unused)",
  async (gpu) => {
    const dir = await checkpointWithHead(3);
    const { model, report } = await BertForSequenceClassification.fromPretrained(gpu, dir);
    assert.equal(model.numLabels, 3);
    assert.ok(report.loaded.includes("classifier.weight"));
    assert.deepEqual(report.unused, []);
    const saved = (await readSafetensors(`${dir}/model.safetensors`)).stateDict;
    assert.deepEqual(
      await model.classifier.weight.value.readFloat(),
      toFloat32(saved.get("classifier.weight")!),
    );
    // A plain BertModel reads the same folder and reports the head as unused, as HF does.
    const bare = await BertModel.fromPretrained(gpu, dir);
    assert.deepEqual(bare.report.unused.sort(), ["classifier.bias", "classifier.weight"]);
    model.dispose();
    bare.model.dispose();
    await Deno.remove(dir, { recursive: true });
  },
);

gpuTest("fromPretrained returns eval mode, as transformers does", async (gpu) => {
  const { model } = await BertForSequenceClassification.fromPretrained(gpu, TINY, { numLabels: 2 });
  assert.equal(model.training, false);
  assert.equal(model.bert.training, false);
  const bare = (await BertModel.fromPretrained(gpu, TINY)).model;
  assert.equal(bare.training, false);
  // Eval mode means no dropout: two forwards of one batch agree exactly.
  const batch = randomHostBatch({ B: 4, S: 10, vocab: 512 });
  const a = await model.forward(batch).logits.readFloat();
  const b = await model.forward(batch).logits.readFloat();
  assert.deepEqual(a, b);
  model.dispose();
  bare.dispose();
});

gpuTest("a plain BertModel checkpoint gets a fresh head, reported missing", async (gpu) => {
  const { model, report } = await BertForSequenceClassification.fromPretrained(gpu, TINY, {
    numLabels: 2,
  });
  assert.deepEqual(report.missing.sort(), ["classifier.bias", "classifier.weight"]);
  const batch = randomHostBatch({ B: 3, S: 10, vocab: 512 });
  const out = model.forward(batch);
  assert.deepEqual(out.logits.shape, [3, 2]);
  assert.ok(out.loss, "a batch with labels gives a loss");
  assert.ok(Number.isFinite((await out.loss.readFloat())[0]));
  model.dispose();
});

gpuTest("savePretrained writes a folder fromPretrained reads back exactly", async (gpu) => {
  const { model } = await BertForSequenceClassification.fromPretrained(gpu, TINY, {
    numLabels: 1,
    seed: 3,
  });
  const dir = await Deno.makeTempDir();
  await model.savePretrained(dir);
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  assert.equal(config.num_labels, 1);
  assert.deepEqual(config.architectures, ["BertForSequenceClassification"]);
  const back = (await BertForSequenceClassification.fromPretrained(gpu, dir)).model;
  assert.equal(back.numLabels, 1);
  const [x, y] = [await readModelWeights(model), await readModelWeights(back)];
  assert.deepEqual([...x.keys()], [...y.keys()]);
  for (const [k, t] of x) assert.deepEqual(toFloat32(y.get(k)!), toFloat32(t), k);
  model.dispose();
  back.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("numLabels must be a positive integer", () => {
  const config = { hiddenSize: 8 } as never;
  assert.throws(
    () => new BertForSequenceClassification(config, { numLabels: 0 }),
    /numLabels is 0/,
  );
});

gpuTest(
  "pool() gives forward().pooled and its gradients while the last layer computes only [CLS]",
  async (gpu) => {
    const bert = (await BertModel.fromPretrained(gpu, TINY)).model;
    // Lengths 10 and 13 (padding in the batch), and T = 13, not a multiple of 4.
    const batch = randomHostBatch({ B: 5, S: 13, vocab: 512, seed: 4 });
    const weights = fromArray(gpu, new Rng(9).array(5 * 64), [5, 64]);
    const params = bert.parameters().map((p) => p.value);
    const run = async (pooled: Tensor) => {
      backward(sum({ x: mul({ a: pooled, b: weights }) }));
      const grads = await Promise.all(params.map((p) => p.grad!.readFloat()));
      zeroGrad(params, { setToNone: true });
      return { pooled: await pooled.readFloat(), grads };
    };
    const dispatches = (f: () => Tensor) => {
      const before = gpu.recorder.stats.dispatches;
      const t = f();
      return { t, n: gpu.recorder.stats.dispatches - before };
    };
    const full = dispatches(() => bert.forward(batch).pooled);
    const cls = dispatches(() => bert.pool(batch));
    const a = await run(full.t), b = await run(cls.t);
    // The [CLS] row is computed by the same kernels over the same keys and values.
    assertAllClose(b.pooled, a.pooled, { atol: 1e-6, rtol: 1e-6, label: "pooled" });
    a.grads.forEach((g, i) =>
      assertAllClose(b.grads[i], g, { atol: 1e-6, rtol: 1e-5, label: params[i].name })
    );
    // The short layer slices [CLS] out (a few dispatches) but multiplies 1 row instead of T.
    assert.ok(cls.n <= full.n + 8, `${cls.n} vs ${full.n} dispatches`);
    bert.dispose();
  },
);
