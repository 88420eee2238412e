import assert from "node:assert/strict";
import type { Batch } from "./loader.ts";
import {
  createSampler,
  ProportionalSampler,
  SequentialSampler,
  UniformSampler,
} from "./samplers.ts";
import type { MultiTaskSampler } from "./sampler.ts";
import { syntheticFeatures } from "../../tests/_util/synthetic_features.ts";
import { syntheticHeadFeatures } from "../../tests/_util/synthetic_head_features.ts";

const sets = () => [
  syntheticFeatures("cola", 0, 10),
  syntheticFeatures("mnli", 1, 25),
  syntheticFeatures("sts-b", 2, 7),
];

async function epoch(sampler: MultiTaskSampler): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of sampler) out.push(b);
  return out;
}

/** Asserts every example of every task appears exactly once in `batches`. */
function assertEachOnce(batches: Batch[], sizes: number[]) {
  const seen = sizes.map((n) => new Array(n).fill(0));
  for (const b of batches) for (let r = 0; r < b.size; r++) seen[b.taskIds[r]][b.exampleIds[r]]++;
  seen.forEach((counts, t) => assert.ok(counts.every((c) => c === 1), `task ${t}: ${counts}`));
}

const key = (b: Batch) => Array.from(b.taskIds).map((t, r) => `${t}:${b.exampleIds[r]}`).join(",");

Deno.test("sequential sampler: tasks take turns, drop out when spent, every example once per epoch", async () => {
  const sampler = new SequentialSampler(sets(), { batchSize: 4, seed: 42 });
  assert.equal(sampler.stepsPerEpoch, 3 + 7 + 2);
  const batches = await epoch(sampler);
  assert.equal(batches.length, 12);
  // One task per batch, round robin in --tasks order; sts-b (7) is spent after 2 turns, cola after 3.
  const order = batches.map((b) => new Set(b.taskIds).size === 1 ? b.taskIds[0] : -1);
  assert.deepEqual(order, [0, 1, 2, 0, 1, 2, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(batches.map((b) => b.size), [4, 4, 4, 4, 4, 3, 2, 4, 4, 4, 4, 1]);
  assertEachOnce(batches, [10, 25, 7]);
  const stats = sampler.stats();
  assert.deepEqual(stats.tasks.map((t) => [t.drawn, t.distinct, t.batches]), [[10, 10, 3], [
    25,
    25,
    7,
  ], [7, 7, 2]]);
  assert.equal(stats.dataFraction, 1);
  assert.equal(stats.epoch, 1);
  // The next epoch reshuffles and again uses every example once.
  const second = await epoch(sampler);
  assertEachOnce(second, [10, 25, 7]);
  assert.notEqual(second.map(key).join("|"), batches.map(key).join("|"));
  assert.equal(sampler.stats().epoch, 2);
  assert.equal(sampler.stats().tasks[1].drawn, 50);
});

Deno.test("proportional sampler: one shuffle of the pooled data, mixed batches, every example once", async () => {
  const sampler = new ProportionalSampler(sets(), { batchSize: 4, seed: 7 });
  assert.equal(sampler.stepsPerEpoch, Math.ceil(42 / 4));
  const batches = await epoch(sampler);
  assert.equal(batches.length, 11);
  assert.equal(batches.at(-1)!.size, 2);
  assertEachOnce(batches, [10, 25, 7]);
  assert.ok(batches.some((b) => b.tasks.length > 1), "some batch mixes tasks");
  const s = sampler.stats();
  assert.deepEqual(s.tasks.map((t) => t.drawn), [10, 25, 7]);
  assert.equal(s.examplesDrawn, 42);
});

Deno.test("uniform sampler: per-task batch counts within 3 sigma of uniform over an epoch", async () => {
  const big = [
    syntheticFeatures("rte", 0, 50),
    syntheticFeatures("qnli", 1, 500),
    syntheticFeatures("sst-2", 2, 5000),
  ];
  const sampler = new UniformSampler(big, { batchSize: 8, seed: 3 });
  const steps = 7 + 63 + 625;
  assert.equal(sampler.stepsPerEpoch, steps);
  const batches = await epoch(sampler);
  assert.equal(batches.length, steps);
  assert.ok(batches.every((b) => b.tasks.length === 1));
  const p = 1 / 3, sigma = Math.sqrt(steps * p * (1 - p));
  const stats = sampler.stats();
  for (const t of stats.tasks) {
    assert.ok(
      Math.abs(t.batches - steps * p) <= 3 * sigma,
      `${t.task}: ${t.batches} batches, expected ${steps * p} ± ${3 * sigma}`,
    );
  }
  // RTE (50 examples) is cycled many times: every example used, each about batches·8/50 times.
  assert.equal(stats.tasks[0].distinct, 50);
  assert.ok(stats.tasks[0].drawn > 50 * 20);
  assert.ok(stats.tasks[2].distinct < 5000);
});

Deno.test("samplers are deterministic for a seed and differ across seeds", async () => {
  for (const mode of ["sequential", "uniform", "proportional"] as const) {
    const a = (await epoch(createSampler(mode, sets(), { batchSize: 4, seed: 1 }))).map(key);
    const b = (await epoch(createSampler(mode, sets(), { batchSize: 4, seed: 1 }))).map(key);
    const c = (await epoch(createSampler(mode, sets(), { batchSize: 4, seed: 2 }))).map(key);
    assert.deepEqual(a, b, mode);
    assert.notDeepEqual(a, c, mode);
  }
});

Deno.test("nextBatchSync() and nextBatch() agree; stats reset; bad arguments are refused", async () => {
  const x = new SequentialSampler(sets(), { batchSize: 5, seed: 9 });
  const y = new SequentialSampler(sets(), { batchSize: 5, seed: 9 });
  for (let i = 0; i < 4; i++) assert.equal(key(x.nextBatchSync()!), key((await y.nextBatch())!));
  x.resetStats();
  assert.equal(x.stats().examplesDrawn, 0);
  assert.equal(x.stats().stepInEpoch, 4);
  assert.throws(() => new SequentialSampler([], { batchSize: 4, seed: 1 }), /there are no tasks/);
  assert.throws(() => new SequentialSampler(sets(), { batchSize: 0, seed: 1 }), /batchSize is 0/);
  assert.throws(
    () => new SequentialSampler([sets()[0], sets()[0]], { batchSize: 4, seed: 1 }),
    /task id 0 is given twice/,
  );
  assert.throws(
    () => createSampler("mt-uncertainty", sets(), { batchSize: 4, seed: 1 }),
    /needs a scorer/,
  );
  assert.throws(
    () => createSampler("random" as "uniform", sets(), { batchSize: 4, seed: 1 }),
    /mode "random"/,
  );
});

/** Examples per (task id, example id) in `batches`, a multiple-choice example's rows once. */
function exampleCounts(batches: Batch[], sizes: number[]): number[][] {
  const seen = sizes.map((n) => new Array(n).fill(0));
  for (const b of batches) {
    for (const slice of b.tasks) {
      const per = slice.choices ?? 1;
      for (let j = 0; j < slice.rows.length; j += per) {
        const r = slice.rows[j];
        for (let c = 1; c < per; c++) {
          assert.equal(b.exampleIds[slice.rows[j + c]], b.exampleIds[r]);
        }
        seen[slice.taskId][b.exampleIds[r]]++;
      }
    }
  }
  return seen;
}

Deno.test("sequential, proportional and uniform samplers over token, span and multiple-choice tasks", async () => {
  const kinds = () =>
    [["rte", 9], ["wnut17", 6], ["squad", 11], ["copa", 7]].map(([task, n], id) =>
      syntheticHeadFeatures(task as string, id, n as number)
    );
  const sizes = [9, 6, 11, 7];
  for (const mode of ["sequential", "proportional"] as const) {
    const sampler = createSampler(mode, kinds(), { batchSize: 4, seed: 5 });
    assert.equal(
      sampler.stepsPerEpoch,
      mode === "sequential" ? 3 + 2 + 3 + 2 : Math.ceil(33 / 4),
      mode,
    );
    const batches = await epoch(sampler);
    exampleCounts(batches, sizes).forEach((counts, t) =>
      assert.ok(counts.every((c) => c === 1), `${mode}, task ${t}: ${counts}`)
    );
    // A batch holds at most b examples; COPA's take two rows each.
    for (const b of batches) {
      const copa = b.tasks.find((t) => t.task === "copa");
      assert.ok(b.size - (copa ? copa.rows.length / 2 : 0) <= 4, mode);
      if (copa) assert.equal(copa.labels!.length, copa.rows.length / 2);
      const tagged = b.tasks.find((t) => t.task === "wnut17");
      if (tagged) assert.equal(tagged.tokenLabels!.length, tagged.rows.length * b.seqLen);
      const span = b.tasks.find((t) => t.task === "squad");
      if (span) assert.equal(span.startPositions!.length, span.rows.length);
    }
    const s = sampler.stats();
    assert.deepEqual(s.tasks.map((t) => [t.drawn, t.distinct]), sizes.map((n) => [n, n]), mode);
    assert.equal(s.dataFraction, 1);
  }
  const uniform = createSampler("uniform", kinds(), { batchSize: 4, seed: 5 });
  const batches = await epoch(uniform);
  assert.equal(batches.length, 10);
  const counts = exampleCounts(batches, sizes).map((c) => c.reduce((a, b) => a + b, 0));
  assert.deepEqual(counts, uniform.stats().tasks.map((t) => t.drawn));
  for (const b of batches) {
    assert.equal(b.tasks.length, 1);
    // b examples, or fewer at the end of a pass; COPA's take two rows each.
    const per = b.tasks[0].choices ?? 1;
    assert.ok(b.size % per === 0 && b.size / per <= 4 && b.size / per >= 1);
    assert.equal(b.tasks[0].choices, b.tasks[0].task === "copa" ? 2 : undefined);
  }
});
