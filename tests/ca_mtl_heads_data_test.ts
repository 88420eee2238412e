/**
 * The heads of docs/model.md §8.4 to §8.7 on real features: dev examples of RTE, WNUT-2017,
 * SQuAD, COPA and WiC from the shared data, tokenized with bert-base-uncased, collated into
 * one mixed batch as the samplers collate them, through CA-MTL-tiny: every task gets logits of
 * its kind's shape, the loss is finite, and backward reaches every head.
 */
import assert from "node:assert/strict";
import { backward } from "../lib/autograd/backward.ts";
import { collateBatch } from "../lib/data/loader.ts";
import { loadTaskFeatures } from "../lib/data/task_features.ts";
import { getTask } from "../lib/data/tasks.ts";
import { loadCaMtl } from "../lib/nn/ca_mtl/pretrained.ts";
import { BertTokenizer } from "../lib/text/tokenizer.ts";
import { DATA_DIR, dataPath, hasData } from "./_util/data.ts";
import { gpuTest } from "./_util/gpu.ts";

const TASKS = ["rte", "wnut17", "squad", "copa", "wic"];
const NEEDS = [
  "bert-base-uncased",
  "glue/RTE",
  "wnut17",
  "squad_v1.1",
  "superglue/COPA",
  "superglue/WiC",
];

gpuTest("real features of every head kind train through CA-MTL-tiny in one batch", async (gpu) => {
  if (!NEEDS.every((sub) => hasData(sub))) return;
  const tokenizer = await BertTokenizer.fromFolder(dataPath("bert-base-uncased"));
  const cacheDir = await Deno.makeTempDir({ prefix: "camtl-heads-" });
  try {
    const sets = await Promise.all(TASKS.map(async (task, taskId) =>
      (await loadTaskFeatures({
        dataDir: DATA_DIR,
        task,
        taskId,
        split: "dev",
        tokenizer,
        maxSeqLength: 64,
        cacheDir,
      })).features
    ));
    const { model } = await loadCaMtl("CA-MTL-tiny", {
      gpu,
      tasks: TASKS.map((name) => ({ name, numLabels: getTask(name).numLabels })),
      maxSeqLength: 64,
      vocabSize: tokenizer.vocabSize,
    });
    // Three examples of each task, interleaved; the first SQuAD windows have answers and not.
    const items = [0, 1, 2].flatMap((index) => sets.map((features) => ({ features, index })));
    const batch = collateBatch(items);
    const out = model.forward(batch);
    const T = batch.seqLen;
    assert.deepEqual(
      TASKS.map((_, t) => out.logits.get(t)!.shape),
      [[3, 2], [3, T, getTask("wnut17").numLabels], [3, T, 2], [3, 2], [3, 2]],
    );
    assert.equal(out.rows.get(3)!.length, 6, "COPA: two choice rows per example");
    const losses = await Promise.all(TASKS.map(async (_, t) => {
      return (await out.taskLosses.get(t)!.readFloat())[0];
    }));
    assert.ok(losses.every((l) => Number.isFinite(l) && l > 0), `task losses ${losses}`);
    backward(out.loss!);
    for (const [name, p] of model.namedParameters()) {
      if (!name.startsWith("decoders.")) continue;
      const g = await p.value.grad!.readFloat();
      assert.ok(g.every(Number.isFinite) && g.some((v) => v !== 0), `${name} has a gradient`);
    }
    model.dispose();
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});
