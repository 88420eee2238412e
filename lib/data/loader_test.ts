import assert from "node:assert/strict";
import {
  type Batch,
  collateBatch,
  evalBatches,
  evalBatchesByTask,
  PAD_MULTIPLE,
  paddedLength,
  trainBatches,
} from "./loader.ts";
import { syntheticFeatures } from "../../tests/_util/synthetic_features.ts";

Deno.test("collateBatch() pads to the batch's longest example and keeps labels per task", () => {
  const cola = syntheticFeatures("cola", 0, 12);
  const stsb = syntheticFeatures("sts-b", 5, 9);
  const items = [
    { features: stsb, index: 4 },
    { features: cola, index: 3 },
    { features: stsb, index: 0 },
    { features: cola, index: 11 },
  ];
  const b = collateBatch(items, { padToMultipleOf: 1 });
  const lens = items.map(({ features, index }) => features.length(index));
  assert.equal(b.seqLen, Math.max(...lens));
  assert.deepEqual(Array.from(b.taskIds), [5, 0, 5, 0]);
  assert.deepEqual(Array.from(b.exampleIds), [4, 3, 0, 11]);
  for (let r = 0; r < 4; r++) {
    const { features, index } = items[r];
    const f = features.get(index);
    const row = b.inputIds.subarray(r * b.seqLen, (r + 1) * b.seqLen);
    assert.deepEqual(Array.from(row.subarray(0, f.length)), Array.from(f.inputIds));
    assert.ok(row.subarray(f.length).every((v) => v === 0));
    const mask = b.attentionMask.subarray(r * b.seqLen, (r + 1) * b.seqLen);
    assert.equal(mask.reduce((a, v) => a + v, 0), f.length);
    assert.deepEqual(
      Array.from(b.tokenTypeIds.subarray(r * b.seqLen, r * b.seqLen + f.length)),
      Array.from(f.tokenTypeIds),
    );
  }
  // Slices by ascending task id; STS-B keeps float labels, CoLA int labels.
  assert.deepEqual(b.tasks.map((t) => [t.task, Array.from(t.rows)]), [["cola", [1, 3]], ["sts-b", [
    0,
    2,
  ]]]);
  assert.ok(b.tasks[0].labels instanceof Int32Array);
  assert.deepEqual(Array.from(b.tasks[0].labels!), [cola.labels![3], cola.labels![11]]);
  assert.ok(b.tasks[1].labels instanceof Float32Array);
  assert.deepEqual(Array.from(b.tasks[1].labels!), [stsb.labels![4], stsb.labels![0]]);
  assert.ok(!Number.isInteger(b.tasks[1].labels![0]));
});

Deno.test("evalBatches() goes through one task in order, last batch short", () => {
  const set = syntheticFeatures("rte", 2, 21);
  const batches = [...evalBatches(set, 8)];
  assert.deepEqual(batches.map((b) => b.size), [8, 8, 5]);
  assert.deepEqual(
    batches.flatMap((b) => Array.from(b.exampleIds)),
    Array.from({ length: 21 }, (_, i) => i),
  );
  for (const b of batches) {
    let longest = 0;
    for (const i of b.exampleIds) longest = Math.max(longest, set.length(i));
    assert.equal(b.seqLen, paddedLength(longest, PAD_MULTIPLE, set.key.maxSeqLength));
    assert.equal(b.seqLen % 8 === 0 || b.seqLen === longest, true);
  }
  const both = [...evalBatchesByTask([set, syntheticFeatures("mnli", 1, 3)], 8)];
  assert.deepEqual(both.map((x) => x.features.task), ["rte", "rte", "rte", "mnli"]);
  assert.throws(() => [...evalBatches(set, 0)], RangeError);
});

Deno.test("collateBatch() rounds the length up to a multiple of 8 with padding, never past maxSeqLength", () => {
  const set = syntheticFeatures("rte", 2, 6, 30);
  for (let i = 0; i < set.size; i++) {
    const exact = collateBatch([{ features: set, index: i }], { padToMultipleOf: 1 });
    const b = collateBatch([{ features: set, index: i }]);
    const n = set.length(i);
    assert.equal(exact.seqLen, n);
    assert.equal(b.seqLen, Math.ceil(n / 8) * 8 <= 30 ? Math.ceil(n / 8) * 8 : n);
    // The real tokens are the same; every added position is padding with mask 0.
    for (const name of ["inputIds", "tokenTypeIds", "attentionMask"] as const) {
      assert.deepEqual([...b[name].subarray(0, n)], [...exact[name]]);
      assert.ok(b[name].subarray(n).every((v) => v === 0), name);
    }
  }
  assert.equal(paddedLength(13, 8, 64), 16);
  assert.equal(paddedLength(16, 8, 64), 16);
  assert.equal(paddedLength(61, 8, 62), 61);
  assert.equal(paddedLength(13, 4, 64), 16);
  assert.throws(() => paddedLength(13, 0, 64), /padToMultipleOf is 0/);
});

Deno.test("collateBatch() rejects empty batches, bad indices and clashing task ids", () => {
  const a = syntheticFeatures("rte", 2, 3);
  assert.throws(() => collateBatch([]), RangeError);
  assert.throws(() => collateBatch([{ features: a, index: 3 }]), RangeError);
  assert.throws(
    () =>
      collateBatch([{ features: a, index: 0 }, {
        features: syntheticFeatures("wnli", 2, 3),
        index: 0,
      }]),
    /task id 2 is used by both "rte" train and "wnli" train/,
  );
});

Deno.test("trainBatches: every example once per epoch, reshuffled, seeded", () => {
  const features = syntheticFeatures("rte", 0, 10, 8);
  const epoch = (batches: Batch[]) => batches.flatMap((b) => [...b.exampleIds]);
  const all = [...trainBatches(features, { batchSize: 4, epochs: 2, seed: 3 })];
  assert.deepEqual(all.map((b) => b.size), [4, 4, 2, 4, 4, 2]);
  const [first, second] = [epoch(all.slice(0, 3)), epoch(all.slice(3))];
  assert.deepEqual([...first].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...second].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(first, second);
  const again = [...trainBatches(features, { batchSize: 4, epochs: 2, seed: 3 })];
  assert.deepEqual(epoch(again), epoch(all));
  assert.equal([...trainBatches(features, { batchSize: 4, epochs: 0.5 })].length, 2);
  assert.equal([...trainBatches(features, { batchSize: 4, steps: 7 })].length, 7);
  assert.throws(() => trainBatches(features, { batchSize: 0 }).next(), /batchSize is 0/);
});
