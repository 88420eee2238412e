/**
 * Evaluation gathers a set's outputs in the set's own layout whatever the batching: the same
 * examples in batches of 3 (padded to each batch's longest) and in one batch give the same
 * per-token, per-choice and per-window outputs, and those decode and score as the task's.
 */
import assert from "node:assert/strict";
import { getTask } from "../data/tasks.ts";
import { loadCaMtl } from "../nn/ca_mtl/pretrained.ts";
import { BertTokenizer } from "../text/tokenizer.ts";
import { DATA_DIR, dataPath, hasData } from "../../tests/_util/data.ts";
import { gpuTest } from "../../tests/_util/gpu.ts";
import { collectOutputs, evaluateSet } from "./evaluate.ts";
import { taskData } from "./run_data.ts";

const TASKS = ["wnut17", "squad", "copa", "cb"];

function values(outputs: Awaited<ReturnType<typeof collectOutputs>>["outputs"]): Float32Array {
  if (outputs.kind !== "span-extraction") return Float32Array.from(outputs.logits);
  const n = outputs.startLogits.length, out = new Float32Array(2 * n);
  out.set(Array.from(outputs.startLogits));
  out.set(Array.from(outputs.endLogits), n);
  return out;
}

gpuTest(
  "a set's outputs do not depend on how it is batched, and score as its task's",
  async (gpu) => {
    if (!["bert-base-cased", "wnut17", "squad_v1.1", "superglue"].every((s) => hasData(s))) return;
    const tokenizer = await BertTokenizer.fromFolder(dataPath("bert-base-cased"));
    const cacheDir = await Deno.makeTempDir({ prefix: "camtl-evaluate-" });
    try {
      // Seven dev examples (questions) of each task, as a run with --max_eval_samples 7 has them.
      const { dev: sets } = await taskData({
        dataDir: DATA_DIR,
        tasks: TASKS,
        tokenizer,
        maxSeqLength: 64,
        docStride: 32,
        maxQueryLength: 64,
        maxTrainSamples: null,
        maxEvalSamples: 7,
        cacheDir,
        overwriteCache: false,
        splits: { train: false, dev: true, test: false },
      });
      const { model } = await loadCaMtl("CA-MTL-tiny", {
        gpu,
        tasks: TASKS.map((name) => ({ name, numLabels: getTask(name).numLabels })),
        maxSeqLength: 64,
        vocabSize: tokenizer.vocabSize,
      });
      for (const set of sets) {
        const small = await collectOutputs(gpu, model, set, 3);
        const whole = await collectOutputs(gpu, model, set, 64);
        const a = values(small.outputs), b = values(whole.outputs);
        assert.equal(a.length, b.length, set.task);
        const tokens = set.offsets[set.offsets.length - 1];
        const expected = {
          "wnut17": tokens * set.numLabels,
          "squad": tokens * 2,
          "copa": set.size * 2,
          "cb": set.size * 3,
        }[set.task];
        assert.equal(a.length, expected, `${set.task}: outputs in the set's layout`);
        assert.ok(a.some((v) => v !== 0), `${set.task}: every row filled`);
        for (let i = 0; i < a.length; i++) {
          assert.ok(Math.abs(a[i] - b[i]) < 1e-4, `${set.task}[${i}]: ${a[i]} vs ${b[i]}`);
        }
        assert.ok(Number.isFinite(small.loss!) && Math.abs(small.loss! - whole.loss!) < 0.5);
        const { metrics, predictions } = await evaluateSet(gpu, model, set, { batchSize: 4 });
        const keys = { "wnut17": "f1", "squad": "exact_match", "copa": "acc", "cb": "acc_and_f1" };
        assert.ok(keys[set.task as keyof typeof keys] in metrics, JSON.stringify(metrics));
        if (predictions.kind === "span-extraction") assert.equal(predictions.answers.length, 7);
        if (predictions.kind === "token-classification") assert.equal(predictions.tags.length, 7);
      }
      model.dispose();
    } finally {
      await Deno.remove(cacheDir, { recursive: true });
    }
  },
);
