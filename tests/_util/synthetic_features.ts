/**
 * Small in-memory feature sets for sampler and loader tests: no tokenizer, and every example
 * identifies itself (`inputIds[1] = 1000·taskId + index`). Test-only.
 *
 * @module
 */

import { SeededRng } from "../../lib/data/rng.ts";
import { type FeatureKey, FeatureSet } from "../../lib/data/features.ts";
import { numLabels } from "../../lib/data/glue_tasks.ts";

/** `n` examples of `task` with lengths 3..maxLen and labels of the task's dtype. */
export function syntheticFeatures(
  task: string,
  taskId: number,
  n: number,
  maxLen = 20,
): FeatureSet {
  const rng = new SeededRng(n, taskId);
  const lengths = Array.from({ length: n }, () => 3 + rng.int(maxLen - 2));
  const offsets = new Int32Array(n + 1);
  lengths.forEach((len, i) => offsets[i + 1] = offsets[i] + len);
  const ids = new Int32Array(offsets[n]);
  const types = new Uint8Array(offsets[n]);
  for (let i = 0; i < n; i++) {
    const a = offsets[i], len = lengths[i];
    for (let j = 0; j < len; j++) ids[a + j] = 2000 + j;
    ids[a] = 101;
    ids[a + 1] = 1000 * taskId + i;
    ids[a + len - 1] = 102;
    for (let j = len >> 1; j < len; j++) types[a + j] = 1;
  }
  const C = numLabels(task);
  const labels = C === 1
    ? Float32Array.from(lengths, (_, i) => (i % 11) * 0.45)
    : Int32Array.from(lengths, (_, i) => i % C);
  return new FeatureSet(syntheticKey(task, taskId, maxLen), {
    offsets,
    inputIds: ids,
    tokenTypeIds: types,
    labels,
    skipped: 0,
    padId: 0,
  });
}

/** The key of a synthetic training set. */
export function syntheticKey(task: string, taskId: number, maxLen: number): FeatureKey {
  const split = "train", vocabHash = "synthetic";
  return { task, taskId, split, vocabHash, doLowerCase: false, maxSeqLength: maxLen };
}
