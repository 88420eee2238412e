/**
 * Building models from checkpoints: `BertModel.fromPretrained`, CA-MTL on BERT weights mapped
 * as docs/model.md §9.2 says, and a saved CA-MTL folder reloading as CA-MTL.
 */
import assert from "node:assert/strict";
import { readSafetensors } from "../lib/io/safetensors.ts";
import { toFloat32 } from "../lib/io/host_tensor.ts";
import { HubError } from "../lib/io/hub.ts";
import { BertModel } from "../lib/nn/bert/model.ts";
import { BertForSequenceClassification } from "../lib/nn/bert/sequence_classification.ts";
import { caMtlTinyBert } from "../lib/nn/ca_mtl/config.ts";
import { CaMtl } from "../lib/nn/ca_mtl/model.ts";
import { caMtlConfigToJson, loadCaMtl } from "../lib/nn/ca_mtl/pretrained.ts";
import { readModelWeights } from "../lib/nn/state_dict.ts";
import { saveModel } from "../lib/train/checkpoint.ts";
import { gpuTest } from "./_util/gpu.ts";

const TINY = new URL("./fixtures/tiny_bert", import.meta.url).pathname;
const TASKS = [{ name: "rte", numLabels: 2 }, { name: "sts-b", numLabels: 1 }];

gpuTest("BertModel.fromPretrained loads a local HF folder", async (gpu) => {
  const { model, report } = await BertModel.fromPretrained(gpu, TINY);
  assert.equal(report.missing.length, 0);
  const ref = (await readSafetensors(`${TINY}/model.safetensors`)).stateDict;
  const got = await model.embeddings.wordEmbeddings.weight.value.readFloat();
  assert.deepEqual(got, toFloat32(ref.get("bert.embeddings.word_embeddings.weight")!));
  model.dispose();
});

gpuTest(
  "CA-MTL on BERT weights: layers load, the base top layer and new modules start fresh",
  async (gpu) => {
    const { model, report } = await loadCaMtl(TINY, {
      gpu,
      tasks: TASKS,
      maxSeqLength: 64,
      architecture: "CA-MTL-base",
    });
    assert.equal(model.config.architecture, "CA-MTL-base");
    // The 2-layer checkpoint's layer 1 is the base stack's renamed top layer: not loaded.
    assert.ok(report!.unused.includes("bert.encoder.layer.1.attention.self.query.weight"));
    assert.ok(report!.loaded.includes("bert.encoder.layer.0.attention.self.query.weight"));
    assert.ok(report!.missing.includes("bert.task_type_embeddings.weight"));
    assert.ok(report!.missing.includes("bert.encoder.layer.1.new_attention.self.query.weight"));
    const ref = (await readSafetensors(`${TINY}/model.safetensors`)).stateDict;
    const weights = await readModelWeights(model);
    const same = (k: string) =>
      assert.deepEqual(toFloat32(weights.get(k)!), toFloat32(ref.get(k)!), k);
    same("bert.encoder.layer.0.attention.self.query.weight");
    same("bert.encoder.layer.0.output.LayerNorm.weight");
    same("bert.pooler.dense.weight");
    const zeros = toFloat32(
      weights.get("bert.encoder.layer.0.attention.self.random_weight_matrix")!,
    );
    assert.ok(zeros.every((v) => v === 0));
    const cln = toFloat32(weights.get("bert.encoder.layer.1.adapter.condlayernorm.weight")!);
    assert.ok(cln.every((v) => v === 1));
    model.dispose();
  },
);

gpuTest("a saved CA-MTL folder reloads as CA-MTL with its tasks and weights", async (gpu) => {
  const model = new CaMtl({
    architecture: "CA-MTL-base",
    bert: { ...caMtlTinyBert(300), hiddenSize: 32, numAttentionHeads: 2, intermediateSize: 64 },
    tasks: TASKS,
    maxSeqLength: 16,
  }).materialize(gpu, 4);
  const dir = await Deno.makeTempDir();
  await saveModel(dir, model, caMtlConfigToJson(model.config));
  const { model: again } = await loadCaMtl(dir, { gpu, tasks: [], maxSeqLength: 128 });
  assert.equal(again.config.architecture, "CA-MTL-base");
  assert.deepEqual(again.config.tasks, TASKS.map((t) => ({ ...t, head: "classification" })));
  assert.equal(again.config.maxSeqLength, 16);
  const a = await readModelWeights(model), b = await readModelWeights(again);
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, t] of a) assert.deepEqual(b.get(k)!.data, t.data, k);
  assert.throws(() => again.taskId("cola"), /Cannot find task "cola": the model has rte, sts-b/);
  model.dispose();
  again.dispose();
  await Deno.remove(dir, { recursive: true });
});

gpuTest("loading reads a folder or the hub cache, says which, and never downloads", async (gpu) => {
  const { model, origin } = await BertForSequenceClassification.fromPretrained(gpu, TINY);
  assert.deepEqual(origin, { folder: TINY, source: "local" });
  model.dispose();
  const home = await Deno.makeTempDir();
  try {
    // Nothing listens on port 9: a download attempt would fail with "Cannot download".
    const resolve = { env: { HF_HOME: home, HF_ENDPOINT: "http://127.0.0.1:9" } };
    const notCached = (e: Error) =>
      e instanceof HubError && e.message.includes('resolveModel("org/absent", { download: true })');
    await assert.rejects(BertModel.fromPretrained(gpu, "org/absent", { resolve }), notCached);
    await assert.rejects(
      BertForSequenceClassification.fromPretrained(gpu, "org/absent", { resolve }),
      notCached,
    );
    await assert.rejects(
      loadCaMtl("org/absent", { gpu, tasks: TASKS, maxSeqLength: 64, resolve }),
      notCached,
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
