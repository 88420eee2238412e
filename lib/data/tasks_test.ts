import assert from "node:assert/strict";
import { buildFeatures, type FeatureTokenizer } from "./features.ts";
import type { GlueExample } from "./glue.ts";
import * as glueTasks from "./glue_tasks.ts";
import { GLUE_LABELS, GLUE_TASKS, KNOWN_GLUE_TASKS } from "./glue_tasks.ts";
import { collateBatch } from "./loader.ts";
import { accAndF1, accuracy, glueComputeMetrics, pearsonAndSpearman } from "./metrics.ts";
import type { CandidateScorer } from "./mt_uncertainty.ts";
import type { SamplingMode } from "./sampler.ts";
import { createSampler } from "./samplers.ts";
import {
  getTask,
  isRegression,
  knownTasks,
  numLabels,
  registerTask,
  type TaskDefinition,
  taskMetrics,
} from "./tasks.ts";
import { syntheticFeatures } from "../../tests/_util/synthetic_features.ts";

// Test-only tasks shaped like the demo suite's (names of their own, so that this file and the
// demo suite can register in the same process).
const SENTIMENT: TaskDefinition = {
  name: "tasks-test-sentiment",
  labels: ["0", "1"],
  numLabels: 2,
  metrics: (preds, labels) => ({ acc: accuracy(preds, labels) }),
};
const PARAPHRASE: TaskDefinition = {
  name: "tasks-test-paraphrase",
  labels: ["0", "1"],
  numLabels: 2,
  metrics: accAndF1,
};
const SIMILARITY: TaskDefinition = {
  name: "tasks-test-similarity",
  labels: null,
  numLabels: 1,
  metrics: pearsonAndSpearman,
};
for (const def of [SENTIMENT, PARAPHRASE, SIMILARITY]) registerTask(def);

/** Word ids by character codes: `[CLS] A [SEP] B [SEP]`, no truncation needed here. */
const tokenizer: FeatureTokenizer = {
  vocabHash: "tasks-test",
  doLowerCase: true,
  encode(textA, textB) {
    const ids = (t: string) => t.split(" ").map((w) => 1000 + w.charCodeAt(0) + w.length);
    const a = [101, ...ids(textA), 102];
    const b = textB === undefined ? [] : [...ids(textB), 102];
    return {
      inputIds: [...a, ...b],
      tokenTypeIds: [...a.map(() => 0), ...b.map(() => 1)],
      attentionMask: [...a, ...b].map(() => 1),
    };
  },
};

const examples = (labels: (number | null)[], pair: boolean): GlueExample[] =>
  labels.map((label, i) => ({
    line: i + 2,
    textA: `the film number ${i} was good`,
    textB: pair ? `a movie ${i}` : null,
    label,
  }));

Deno.test("GLUE tasks are registered from the GLUE table and scored with glueComputeMetrics", () => {
  assert.deepEqual(knownTasks().slice(0, KNOWN_GLUE_TASKS.length), [...KNOWN_GLUE_TASKS]);
  for (const name of KNOWN_GLUE_TASKS) {
    const def = getTask(name);
    assert.equal(def.name, name);
    assert.deepEqual(def.labels, name === "sts-b" ? null : GLUE_LABELS[name]);
    assert.equal(isRegression(name), name === "sts-b");
    const preds = [1, 0, 1, 1, 0], gold = [1, 0, 0, 1, 1];
    assert.deepEqual(taskMetrics(name, preds, gold), glueComputeMetrics(name, preds, gold), name);
  }
  assert.deepEqual(GLUE_TASKS.map(numLabels), [2, 3, 2, 2, 2, 1, 2, 2, 2]);
  // glue_tasks.ts keeps exporting the same functions, now answering for every task.
  assert.equal(glueTasks.numLabels, numLabels);
  assert.equal(glueTasks.numLabels("tasks-test-similarity"), 1);
  assert.equal(glueTasks.isRegression("tasks-test-sentiment"), false);
});

Deno.test("getTask() names every known task, registered ones included, for an unknown name", () => {
  assert.throws(
    () => getTask("no-such-task"),
    (e) =>
      e instanceof RangeError &&
      e.message.startsWith(
        `Cannot use task "no-such-task": unknown task; known tasks are "cola", "mnli"`,
      ) &&
      e.message.includes(`"tasks-test-similarity"`),
  );
  assert.throws(() => numLabels("no-such-task"), RangeError);
});

Deno.test("registerTask() checks definitions and refuses a different task under a taken name", () => {
  assert.equal(registerTask({ ...SENTIMENT }), getTask(SENTIMENT.name), "same definition again");
  assert.ok(Object.isFrozen(getTask(SENTIMENT.name).labels));
  assert.throws(
    () => registerTask({ ...SENTIMENT, labels: ["neg", "pos"] }),
    /Cannot register task "tasks-test-sentiment": a different task of that name is registered/,
  );
  assert.throws(
    () => registerTask({ ...SENTIMENT, metrics: (p, l) => ({ acc: accuracy(p, l) }) }),
    /a different task of that name/,
  );
  assert.throws(() => registerTask({ ...SENTIMENT, name: "rte" }), /Cannot register task "rte"/);
  assert.throws(() => registerTask({ ...SENTIMENT, name: "two words" }), RangeError);
  assert.throws(() => registerTask({ ...SENTIMENT, name: "" }), RangeError);
  assert.throws(
    () => registerTask({ ...SENTIMENT, name: "t-bad", labels: [], numLabels: 1 }),
    /use labels: null for a regression task/,
  );
  assert.throws(
    () => registerTask({ ...SENTIMENT, name: "t-bad", numLabels: 3 }),
    /numLabels is 3 but it has 2 labels/,
  );
  assert.throws(
    () => registerTask({ ...SIMILARITY, name: "t-bad", numLabels: 2 }),
    /numLabels is 2 but a regression task has 1 output/,
  );
  assert.throws(
    () => registerTask({ ...SENTIMENT, name: "t-bad", labels: ["a", "a"] }),
    /are not distinct strings/,
  );
  assert.throws(() => getTask("t-bad"), RangeError, "a refused task is not registered");
  assert.deepEqual(taskMetrics(PARAPHRASE.name, [1, 0, 1, 1], [1, 0, 0, 1]), {
    acc: 0.75,
    f1: 0.8,
    acc_and_f1: 0.775,
  });
});

Deno.test("a registered task builds features like its GLUE twin: label dtype, head size, checks", async () => {
  const options = { tokenizer, taskId: 1, split: "train", maxSeqLength: 32 };
  const twin = await buildFeatures(examples([1, 0, 1], false), { ...options, task: "sst-2" });
  const demo = await buildFeatures(examples([1, 0, 1], false), {
    ...options,
    task: SENTIMENT.name,
  });
  assert.equal(demo.numLabels, 2);
  assert.ok(demo.labels instanceof Int32Array);
  assert.deepEqual(demo.key, { ...twin.key, task: SENTIMENT.name });
  for (const k of ["offsets", "inputIds", "tokenTypeIds", "labels"] as const) {
    assert.deepEqual(demo[k], twin[k], k);
  }
  const scores = [0.25, 4.5, 3.125]; // exact in float32
  const sim = await buildFeatures(examples(scores, true), { ...options, task: SIMILARITY.name });
  assert.equal(sim.numLabels, 1);
  assert.ok(sim.labels instanceof Float32Array);
  assert.deepEqual(Array.from(sim.labels!), scores);
  const test = await buildFeatures(examples([null, null], true), {
    ...options,
    task: PARAPHRASE.name,
  });
  assert.equal(test.labels, null);
  await assert.rejects(
    () => buildFeatures(examples([0, 2], false), { ...options, task: SENTIMENT.name }),
    /Cannot build features of "tasks-test-sentiment" line 3: label 2 is not a class index in \[0, 2\)/,
  );
  await assert.rejects(
    () => buildFeatures(examples([NaN], true), { ...options, task: SIMILARITY.name }),
    /label NaN is not a finite score/,
  );
  await assert.rejects(
    () => buildFeatures(examples([0], false), { ...options, task: "no-such-task" }),
    /Cannot use task "no-such-task": unknown task/,
  );
});

Deno.test("registered tasks batch and sample in every mode, alongside a GLUE task", async () => {
  const sets = () => [
    syntheticFeatures(SENTIMENT.name, 0, 9),
    syntheticFeatures("mnli", 1, 6),
    syntheticFeatures(SIMILARITY.name, 2, 5),
  ];
  const batch = collateBatch(sets().map((features) => ({ features, index: 1 })));
  assert.deepEqual(batch.tasks.map((t) => t.task), [SENTIMENT.name, "mnli", SIMILARITY.name]);
  assert.ok(batch.tasks[2].labels instanceof Float32Array);
  const scorer: CandidateScorer = (pool) =>
    pool.tasks.map((slice) =>
      Array.from(slice.rows).flatMap((r) =>
        Array.from({ length: numLabels(slice.task) }, (_, c) => Math.cos(pool.exampleIds[r] + c))
      )
    );
  const modes: SamplingMode[] = ["sequential", "uniform", "proportional", "mt-uncertainty"];
  for (const mode of modes) {
    const sampler = createSampler(mode, sets(), { batchSize: 4, seed: 5, scorer });
    let rows = 0;
    for await (const b of sampler) rows += b.size;
    const stats = sampler.stats();
    assert.equal(rows, stats.examplesDrawn, mode);
    if (mode === "sequential" || mode === "proportional") {
      assert.deepEqual(stats.tasks.map((t) => t.distinct), [9, 6, 5], `${mode}: all used once`);
    }
    const resumed = createSampler(mode, sets(), { batchSize: 4, seed: 5, scorer });
    resumed.loadState(JSON.parse(JSON.stringify(sampler.saveState())));
    const [x, y] = [await sampler.nextBatch(), await resumed.nextBatch()];
    assert.deepEqual(Array.from(y!.exampleIds), Array.from(x!.exampleIds), mode);
  }
});
