/**
 * The 24-task setting end to end, at CI size: one CA-MTL-tiny model trained with MT-Uncertainty
 * sampling on a mix of GLUE, SuperGLUE, WNUT-2017 and SQuAD tasks from a data root laid out as
 * the shared data is, with every task's dev metrics and prediction files written in its
 * benchmark's format, and a run interrupted at a checkpoint and resumed ending with the same
 * weights and metrics as the uninterrupted one. The shared data has SQuAD's dev set only: the
 * data root built here splits its first articles into a small train file and a small dev file.
 */
import assert from "node:assert/strict";
import type { TrainingConfig } from "../lib/train/config.ts";
import { runTraining } from "../lib/train/run.ts";
import { dataPath, hasData } from "./_util/data.ts";
import { testGpu } from "./_util/gpu.ts";

const TASKS = ["cola", "rte", "cb", "copa", "wic", "wnut17", "squad"];

/** A data root: the shared families linked in, SQuAD cut to two small files. */
async function dataRoot(dir: string): Promise<string> {
  const root = `${dir}/data`;
  await Deno.mkdir(`${root}/squad_v1.1`, { recursive: true });
  for (const family of ["glue", "superglue", "wnut17"]) {
    await Deno.symlink(dataPath(family), `${root}/${family}`);
  }
  const squad = JSON.parse(await Deno.readTextFile(dataPath("squad_v1.1/dev-v1.1.json")));
  const cut = (articles: unknown[]) => JSON.stringify({ version: "1.1", data: articles });
  await Deno.writeTextFile(`${root}/squad_v1.1/train-v1.1.json`, cut(squad.data.slice(0, 2)));
  await Deno.writeTextFile(`${root}/squad_v1.1/dev-v1.1.json`, cut(squad.data.slice(2, 3)));
  return root;
}

Deno.test({
  name:
    "a mixed GLUE, SuperGLUE, WNUT-2017 and SQuAD run writes every task's outputs and resumes exactly",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    if (!hasData("superglue") || !hasData("wnut17") || !hasData("squad_v1.1")) return;
    if (!(await testGpu())) return;
    const dir = await Deno.makeTempDir({ prefix: "camtl-beyond-glue-" });
    try {
      const config: TrainingConfig = {
        modelNameOrPath: "CA-MTL-tiny",
        tokenizerName: dataPath("bert-base-cased"),
        dataDir: await dataRoot(dir),
        cacheDir: `${dir}/cache`,
        tasks: TASKS,
        maxSeqLength: 64,
        docStride: 32,
        maxQueryLength: 16,
        maxTrainSamples: 48,
        maxEvalSamples: 12,
        doTrain: true,
        doEval: true,
        doPredict: true,
        useMtUncertainty: true,
        perDeviceTrainBatchSize: 8,
        perDeviceEvalBatchSize: 16,
        learningRate: 1e-3,
        maxSteps: 30,
        saveSteps: 18,
        loggingSteps: 15,
        seed: 7,
      };
      const straight = await runTraining({
        ...config,
        outputDir: `${dir}/a`,
        loggingDir: `${dir}/tb-a`,
      });
      assert.equal(straight.globalStep, 30);
      assert.deepEqual(Object.keys(straight.evalResults), TASKS);
      const keys = (task: string) => Object.keys(straight.evalResults[task]).sort();
      assert.deepEqual(keys("squad"), ["eval_loss", "exact_match", "f1"]);
      assert.deepEqual(keys("wnut17"), ["accuracy", "eval_loss", "f1", "precision", "recall"]);
      assert.deepEqual(keys("cb"), ["acc", "acc_and_f1", "eval_loss", "f1"]);
      assert.deepEqual(keys("copa"), ["acc", "eval_loss"]);
      for (const task of TASKS) {
        const text = await Deno.readTextFile(`${dir}/a/eval_results_${task}.txt`);
        assert.match(text, /^eval_loss = /m, task);
      }
      // Prediction files, each in its benchmark's format.
      const files = straight.files;
      for (
        const name of [
          "cola_test_iter_30.tsv",
          "rte_test_iter_30.tsv",
          "CB.jsonl",
          "COPA.jsonl",
          "WiC.jsonl",
          "wnut17_test_predictions.txt",
          "predictions_squad.json",
        ]
      ) assert.ok(files.includes(name), `${name} in ${files.join(", ")}`);
      const read = (name: string) => Deno.readTextFile(`${dir}/a/${name}`);
      const cb = (await read("CB.jsonl")).trim().split("\n").map((l) => JSON.parse(l));
      assert.equal(cb.length, 12);
      assert.deepEqual(Object.keys(cb[0]), ["idx", "label"]);
      assert.ok(cb.every((r) => ["contradiction", "entailment", "neutral"].includes(r.label)));
      const copa = (await read("COPA.jsonl")).trim().split("\n").map((l) => JSON.parse(l));
      assert.ok(copa.every((r) => r.label === 0 || r.label === 1));
      const squad = JSON.parse(await read("predictions_squad.json"));
      assert.equal(Object.keys(squad).length, 12);
      assert.ok(Object.values(squad).every((a) => typeof a === "string"));
      const conll = (await read("wnut17_test_predictions.txt")).split("\n\n");
      assert.equal(conll.filter((s) => s.trim() !== "").length, 12);
      assert.match(conll[0], /^\S+\t[BIO][-\w]*\t[BIO][-\w]*$/m);
      assert.match(await read("cola_test_iter_30.tsv"), /^index\tprediction\n0\t[01]\n/);

      // Interrupted after the checkpoint at step 18, resumed from it.
      const resumed = await runTraining({
        ...config,
        modelNameOrPath: `${dir}/a/checkpoint-18`,
        outputDir: `${dir}/b`,
        loggingDir: `${dir}/tb-b`,
      });
      assert.equal(resumed.globalStep, 30);
      assert.deepEqual(
        await Deno.readFile(`${dir}/b/model.safetensors`),
        await Deno.readFile(`${dir}/a/model.safetensors`),
        "the same final weights",
      );
      assert.deepEqual(resumed.evalResults, straight.evalResults);
      assert.equal(
        await Deno.readTextFile(`${dir}/b/predictions_squad.json`),
        await read("predictions_squad.json"),
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
