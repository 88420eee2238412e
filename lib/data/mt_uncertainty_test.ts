import assert from "node:assert/strict";
import { assertAllClose } from "../../tests/_util/allclose.ts";
import type { Batch } from "./loader.ts";
import {
  mtUncertaintyEpochSteps,
  MtUncertaintySampler,
  mtUncertaintyScores,
  selectTopK,
  softmaxEntropy,
} from "./mt_uncertainty.ts";
import { syntheticFeatures } from "../../tests/_util/synthetic_features.ts";
import { syntheticHeadFeatures } from "../../tests/_util/synthetic_head_features.ts";
import { headKind, registerTask } from "./tasks.ts";

/*
 * Worked example (docs/model.md §12.7), four tasks in --tasks order, three candidates each:
 *
 *   task   C  logits                              Ĥ = H(softmax)/(ln C + 1e-5)      H̄_t
 *   rte    2  [0,0] [3,-3] [-3,3]                 0.99998557 0.02497475 0.02497475  0.34997835
 *   mnli   3  [.2,0,0] [.5,0,0] [.8,0,0]          0.99578028 0.97253205 0.92825081  0.96552105 = Ĥ_max
 *   sts-b  1  [2.7] [4.1] [0.3]                   0          0          0           0
 *   mrpc   2  [1,0] [2,0] [.2,0]                  0.83992942 0.52705774 0.99280811  0.78659842
 *
 * Code score s = Ĥ·H̄_t/Ĥ_max:
 *   rte   0.36247092 0.00905275 0.00905275   (its one uncertain candidate is damped by H̄_rte)
 *   mnli  0.99578028 0.97253205 0.92825081   (factor 1)
 *   mrpc  0.68428043 0.42938762 0.80882886
 *   sts-b takes mrpc's scores position by position: 0.68428043 0.42938762 0.80882886
 * Top 5: mnli 0, mnli 1, mnli 2, sts-b 2, mrpc 2. Ranking by Ĥ alone would have taken rte 0
 * (0.99999) and never sts-b.
 *
 * Paper score U = H/(Ĥ·ln C), Ĥ = max_t mean raw H = 1.06074294 (mnli), no borrowing:
 *   rte 0.94273547 0.02354492 0.02354492; mnli 0.93876594 0.91684881 0.87510293;
 *   sts-b 0 0 0; mrpc 0.79184268 0.49688319 0.93596892  → top 5: rte 0, mnli 0, mrpc 2, mnli 1, mnli 2.
 * (Values computed with scipy.stats.entropy in float64.)
 */
const LOGITS: Record<string, number[][]> = {
  "rte": [[0, 0], [3, -3], [-3, 3]],
  "mnli": [[0.2, 0, 0], [0.5, 0, 0], [0.8, 0, 0]],
  "sts-b": [[2.7], [4.1], [0.3]],
  "mrpc": [[1, 0], [2, 0], [0.2, 0]],
};
const TASKS = ["rte", "mnli", "sts-b", "mrpc"];
const groups = (tasks = TASKS) =>
  tasks.map((task) => ({ task, numLabels: LOGITS[task][0].length, logits: LOGITS[task].flat() }));

Deno.test("mtUncertaintyScores() matches the worked example (code score)", () => {
  const r = mtUncertaintyScores(groups());
  assertAllClose(r.entropy, [
    0.9999855732577251,
    0.02497474535797885,
    0.02497474535797885,
    0.9957802827582977,
    0.9725320517337641,
    0.9282508098680549,
    0,
    0,
    0,
    0.8399294203630747,
    0.5270577371673248,
    0.9928081093572141,
  ], { atol: 1e-12, rtol: 1e-12, label: "normalised entropy" });
  assertAllClose(r.taskMean, [0.3499783546578943, 0.9655210481200388, 0, 0.7865984222958712], {
    atol: 1e-12,
    rtol: 1e-12,
  });
  assert.equal(r.hMax, r.taskMean[1]);
  assert.equal(r.borrowed, 3);
  assertAllClose(r.scores, [
    0.3624709231267419,
    0.009052749606447358,
    0.009052749606447358,
    0.9957802827582977,
    0.9725320517337641,
    0.9282508098680549,
    0.684280428877134,
    0.42938761958828525,
    0.808828863941908,
    0.684280428877134,
    0.42938761958828525,
    0.808828863941908,
  ], { atol: 1e-12, rtol: 1e-12, label: "code scores" });
  assert.deepEqual(Array.from(selectTopK(r.scores, 5)), [3, 4, 5, 8, 11]);
});

Deno.test("mtUncertaintyScores() paper form ranks by normalised entropy and does not borrow", () => {
  const r = mtUncertaintyScores(groups(), { scoreMode: "paper" });
  assertAllClose([r.hMax], [1.060742943642869], { atol: 1e-12, rtol: 1e-12 });
  assert.equal(r.borrowed, 0);
  assertAllClose(r.scores, [
    0.9427354723338891,
    0.023544918037937214,
    0.023544918037937214,
    0.9387659401449714,
    0.9168488085926175,
    0.8751029311429237,
    0,
    0,
    0,
    0.7918426825434163,
    0.49688319320143787,
    0.9359689248942454,
  ], { atol: 1e-12, rtol: 1e-12, label: "paper scores" });
  assert.deepEqual(Array.from(selectTopK(r.scores, 5)), [0, 3, 11, 4, 5]);
});

Deno.test("without MRPC, STS-B scores stay 0 and are picked only when nothing else is left", () => {
  const r = mtUncertaintyScores(groups(["rte", "sts-b"]));
  assert.equal(r.borrowed, 0);
  assert.deepEqual(Array.from(r.scores.subarray(3)), [0, 0, 0]);
  assert.deepEqual(Array.from(selectTopK(r.scores, 4)), [0, 1, 2, 3]);
  // All-zero entropy: the code would compute 0/0; here every score is 0, earliest kept.
  const flat = mtUncertaintyScores([{ task: "sts-b", numLabels: 1, logits: [1, 2] }]);
  assert.deepEqual(Array.from(flat.scores), [0, 0]);
});

Deno.test("softmaxEntropy() is stable for extreme logits", () => {
  assert.equal(softmaxEntropy([1e4, -1e4]), 0);
  assertAllClose([softmaxEntropy([-1e4, -1e4, -1e4])], [Math.log(3)], { atol: 1e-12 });
  assert.throws(
    () => mtUncertaintyScores([{ task: "mnli", numLabels: 3, logits: [1, 2] }]),
    TypeError,
  );
});

/** Sampler over 4 tasks of 3 examples, batch 5: every step scores the worked example. */
function workedSampler(scoreMode: "code" | "paper" = "code") {
  const sets = TASKS.map((t, id) => syntheticFeatures(t, id, 3));
  const seenPools: Batch[] = [];
  const sampler = new MtUncertaintySampler(sets, {
    batchSize: 5,
    seed: 12,
    scoreMode,
    // Logits by example identity, so the result does not depend on the shuffle.
    scorer: (pool) => {
      seenPools.push(pool);
      return pool.tasks.map((slice) =>
        Array.from(slice.rows).flatMap((r) => LOGITS[slice.task][pool.exampleIds[r]])
      );
    },
  });
  return { sampler, seenPools };
}

Deno.test("MtUncertaintySampler selects the worked example's top b and counts candidates seen and used", async () => {
  const { sampler, seenPools } = workedSampler();
  // 4 tasks × ceil(3/5) = 1 batch each: int(1 · 4 · 1) = 4 steps.
  assert.equal(sampler.stepsPerEpoch, 4);
  const batches: Batch[] = [];
  for await (const b of sampler) batches.push(b);
  assert.equal(batches.length, 4);
  assert.equal(seenPools.length, 4);
  batches.forEach((b, i) => {
    // Borrowing is positional in the shuffled pool: the STS-B candidate kept is the one that
    // sits where MRPC example 2 sits among MRPC's candidates.
    const pool = seenPools[i];
    const rowsOf = (task: string) => Array.from(pool.tasks.find((t) => t.task === task)!.rows);
    const at = rowsOf("mrpc").findIndex((r) => pool.exampleIds[r] === 2);
    const stsb = pool.exampleIds[rowsOf("sts-b")[at]];
    const chosen = Array.from(b.taskIds, (t, r) => `${TASKS[t]}${b.exampleIds[r]}`).sort();
    assert.deepEqual(chosen, ["mnli0", "mnli1", "mnli2", "mrpc2", `sts-b${stsb}`]);
    assert.ok(b.tasks.find((t) => t.task === "sts-b")!.labels instanceof Float32Array);
  });
  assert.ok(seenPools.every((p) => p.size === 12));
  const s = sampler.stats();
  assert.equal(s.candidatesSeen, 48);
  assert.equal(s.candidatesUsed, 20);
  assert.equal(s.candidateFraction, 20 / 48);
  assert.deepEqual(s.tasks.map((t) => [t.candidates, t.drawn]), [[12, 0], [12, 12], [12, 4], [
    12,
    4,
  ]]);
  assert.deepEqual(s.tasks.map((t) => t.distinct).slice(0, 2), [0, 3]);
  assert.equal(s.tasks[3].distinct, 1);
  const used = 3 + 1 + s.tasks[2].distinct;
  assert.equal(s.dataFraction, used / 12);
  assert.equal(sampler.lastStep!.selected.length, 5);
});

Deno.test("MtUncertaintySampler paper mode picks rte 0 and no STS-B candidate", async () => {
  const { sampler } = workedSampler("paper");
  const b = (await sampler.nextBatch())!;
  const chosen = Array.from(b.taskIds, (t, r) => `${TASKS[t]}${b.exampleIds[r]}`).sort();
  assert.deepEqual(chosen, ["mnli0", "mnli1", "mnli2", "mrpc2", "rte0"]);
});

Deno.test("MtUncertaintySampler restarts spent tasks and is deterministic for a seed", async () => {
  const make = (seed: number) =>
    new MtUncertaintySampler([syntheticFeatures("cola", 0, 5), syntheticFeatures("mnli", 1, 40)], {
      batchSize: 4,
      seed,
      scorer: (pool) =>
        pool.tasks.map((slice) => {
          const C = slice.task === "mnli" ? 3 : 2;
          return Array.from(slice.rows).flatMap((r) =>
            Array.from({ length: C }, (_, c) => Math.sin(pool.exampleIds[r] * 7 + c * 3))
          );
        }),
    });
  const a = make(5), b = make(5), c = make(6);
  assert.equal(a.stepsPerEpoch, 10 * 2);
  const run = async (s: MtUncertaintySampler) => {
    const out: string[] = [];
    for await (const batch of s) out.push(Array.from(batch.exampleIds).join());
    return out;
  };
  const ra = await run(a);
  assert.deepEqual(ra, await run(b));
  assert.notDeepEqual(ra, await run(c));
  // CoLA has 5 examples and gives 4 + 1 candidates per pass, then restarts.
  const s = a.stats();
  assert.equal(s.tasks[0].candidates, 4 * 10 + 1 * 10);
  assert.equal(s.tasks[1].candidates, 4 * 20);
  assert.equal(s.candidatesUsed, 20 * 4);
});

Deno.test("MT-Uncertainty epoch length (model.md §12.8); a wrong scorer is refused", async () => {
  // GLUE train sizes in the default task order; MNLI (392,702) sets the batch count.
  const sizes = [8551, 392702, 2490, 635, 363846, 5749, 67349, 104743, 3668];
  assert.equal(mtUncertaintyEpochSteps(sizes, { batchSize: 8 }), 441792);
  assert.equal(mtUncertaintyEpochSteps(sizes, { batchSize: 8, uniformMtSampling: true }), 55224);
  assert.equal(mtUncertaintyEpochSteps(sizes, { batchSize: 32 }), 110448);
  assert.equal(mtUncertaintyEpochSteps(sizes, { batchSize: 32, uniformMtSampling: true }), 3451);
  assert.equal(mtUncertaintyEpochSteps(sizes, { batchSize: 32, percentOfMaxDataSize: 0.5 }), 55224);
  const sets = [syntheticFeatures("rte", 0, 6)];
  assert.throws(
    () =>
      new MtUncertaintySampler(sets, {
        batchSize: 4,
        seed: 1,
        percentOfMaxDataSize: 0,
        scorer: () => [],
      }),
    /percentOfMaxDataSize is 0/,
  );
  const bad = new MtUncertaintySampler(sets, { batchSize: 4, seed: 1, scorer: () => [[0.1, 0.2]] });
  await assert.rejects(() => bad.nextBatch(), /expected \[4, 2\] logits, got 2 values/);
});

Deno.test("a regression task standing in for STS-B borrows from the task standing in for MRPC", () => {
  registerTask({
    name: "twin-rating",
    labels: null,
    numLabels: 1,
    metrics: () => ({}),
    glueTwin: "sts-b",
  });
  registerTask({
    name: "twin-comparison",
    labels: ["0", "1"],
    numLabels: 2,
    metrics: () => ({}),
    glueTwin: "mrpc",
  });
  const r = mtUncertaintyScores([
    { task: "twin-comparison", numLabels: 2, logits: [0, 0, 2, 0] },
    { task: "twin-rating", numLabels: 1, logits: [1.5, 2.5] },
  ]);
  assert.equal(r.borrowed, 2);
  assert.deepEqual([...r.scores.slice(2)], [...r.scores.slice(0, 2)]);
  assert.ok(r.scores[2] > 0);
});

/*
 * A pool of every head kind: the fake scorer gives even examples uniform logits (Ĥ ≈ 1) and odd
 * ones one-hot logits (Ĥ = 0) at every real position, and uniform logits where a candidate's
 * uncertainty must not look (padding, a tagger's [CLS] and [SEP]). So the kept candidates are even
 * examples, those of the tasks with more even candidates first (H̄_t), earlier candidates first.
 */
Deno.test("MtUncertaintySampler scores classification, token, span and multiple-choice candidates", async () => {
  const HEAD_TASKS = ["rte", "wnut17", "squad", "copa"];
  const sets = HEAD_TASKS.map((t, id) => syntheticHeadFeatures(t, id, 8));
  const b = 4;
  const pools: Batch[] = [];
  const sampler = new MtUncertaintySampler(sets, {
    batchSize: b,
    seed: 3,
    scorer: (pool) => {
      pools.push(pool);
      const T = pool.seqLen;
      const row = (C: number, sure: boolean) =>
        Array.from({ length: C }, (_, c) => sure ? (c === 1 ? 1e4 : -1e4) : 0);
      return pool.tasks.map((slice) => {
        const C = sets[slice.taskId].numLabels, kind = headKind(slice.task);
        if (kind === "multiple-choice") {
          const first = Array.from(slice.rows).filter((_, j) => j % C === 0);
          return first.flatMap((r) => row(C, pool.exampleIds[r] % 2 === 1));
        }
        if (kind === "classification") {
          return Array.from(slice.rows).flatMap((r) => row(C, pool.exampleIds[r] % 2 === 1));
        }
        const out: number[] = [];
        for (const r of slice.rows) {
          let L = 0;
          while (L < T && pool.attentionMask[r * T + L] === 1) L++;
          const odd = pool.exampleIds[r] % 2 === 1;
          for (let j = 0; j < T; j++) {
            const counted = kind === "span-extraction" ? j < L : j > 0 && j < L - 1;
            if (kind === "span-extraction") {
              out.push(
                odd && counted ? (j === 1 ? 1e4 : -1e4) : 0,
                odd && counted ? (j === 2 ? 1e4 : -1e4) : 0,
              );
            } else out.push(...row(C, odd && counted));
          }
        }
        return out;
      });
    },
  });
  for (let step = 0; step < 6; step++) {
    const batch = (await sampler.nextBatch())!;
    const pool = pools[step], last = sampler.lastStep!;
    // One candidate per example: 4 of each task, COPA's two choice rows together.
    assert.equal(last.scores.length, 16);
    assert.equal(pool.size, 12 + 4 * 2);
    // Ĥ of an even candidate is N/(N + 1e-5), N = ln C, or ln L for a span (L real tokens).
    const candidates: { task: number; id: number; h: number }[] = [];
    for (let r = 0; r < pool.size; r += pool.taskIds[r] === 3 ? 2 : 1) {
      const task = pool.taskIds[r], id = pool.exampleIds[r];
      const L = pool.attentionMask.subarray(r * pool.seqLen, (r + 1) * pool.seqLen)
        .reduce((a, m) => a + m, 0);
      const N = Math.log(task === 2 ? L : sets[task].numLabels);
      candidates.push({ task, id, h: id % 2 === 0 ? N / (N + 1e-5) : 0 });
    }
    const mean = HEAD_TASKS.map((_, t) =>
      candidates.filter((c) => c.task === t).reduce((a, c) => a + c.h, 0) / 4
    );
    const expected = candidates.map((c, k) => ({ ...c, k, s: c.h * mean[c.task] }))
      .sort((x, y) => y.s - x.s || x.k - y.k).slice(0, b);
    assert.deepEqual(Array.from(last.selected), expected.map((c) => c.k), `step ${step}`);
    assert.ok(expected.every((c) => c.s > 0), "each pool has 4 even candidates");
    const kept = new Set(expected.map((c) => `${c.task}:${c.id}`));
    const rows = Array.from(batch.taskIds, (t, r) => `${t}:${batch.exampleIds[r]}`);
    assert.deepEqual(new Set(rows), kept);
    assert.equal(batch.size, b + expected.filter((c) => c.task === 3).length);
    const copa = batch.tasks.find((t) => t.task === "copa");
    if (copa) assert.equal(copa.labels!.length * 2, copa.rows.length);
  }
  const s = sampler.stats();
  assert.equal(s.candidatesSeen, 6 * 16);
  assert.equal(s.candidatesUsed, 6 * b);
  assert.deepEqual(s.tasks.map((t) => t.candidates), [24, 24, 24, 24]);
});
