/**
 * Small in-memory feature sets of every head kind for sampler tests, without a tokenizer: a
 * classification task comes from {@linkcode syntheticFeatures}; token classification, span
 * extraction and multiple choice get the extras their batches carry (tags, answer positions,
 * `choices` sequences per example). Example i of task id t has `inputIds[1] = 1000·t + i` in each
 * of its sequences. Test-only.
 *
 * @module
 */

import { IGNORE_INDEX } from "../../lib/data/feature_extras.ts";
import { FeatureSet } from "../../lib/data/features.ts";
import { SeededRng } from "../../lib/data/rng.ts";
import { getTask, headKind } from "../../lib/data/tasks.ts";
import { syntheticFeatures, syntheticKey } from "./synthetic_features.ts";

/** `n` examples of a registered `task` of any head kind, each sequence 3..maxLen tokens long. */
export function syntheticHeadFeatures(
  task: string,
  taskId: number,
  n: number,
  maxLen = 20,
): FeatureSet {
  const kind = headKind(task);
  if (kind === "classification") return syntheticFeatures(task, taskId, n, maxLen);
  const C = getTask(task).numLabels;
  const choices = kind === "multiple-choice" ? C : 1;
  const rng = new SeededRng(n, taskId + 100);
  const lengths = Array.from({ length: n * choices }, () => 3 + rng.int(maxLen - 2));
  const offsets = new Int32Array(lengths.length + 1);
  lengths.forEach((len, k) => offsets[k + 1] = offsets[k] + len);
  const tokens = offsets[lengths.length];
  const ids = new Int32Array(tokens), types = new Uint8Array(tokens);
  const tags = new Int32Array(tokens).fill(IGNORE_INDEX), words = new Int32Array(tokens).fill(-1);
  lengths.forEach((len, k) => {
    const a = offsets[k];
    for (let j = 1; j < len - 1; j++) {
      ids[a + j] = 2000 + j;
      tags[a + j] = j % C;
      words[a + j] = j - 1;
    }
    ids[a] = 101;
    ids[a + 1] = 1000 * taskId + Math.floor(k / choices);
    ids[a + len - 1] = 102;
  });
  const key = syntheticKey(task, taskId, maxLen);
  const base = { offsets, inputIds: ids, tokenTypeIds: types, skipped: 0, padId: 0 };
  if (kind === "multiple-choice") {
    const labels = Int32Array.from({ length: n }, (_, i) => i % C);
    return new FeatureSet(key, { ...base, labels, extras: { choices } });
  }
  if (kind === "token-classification") {
    return new FeatureSet(key, {
      ...base,
      labels: null,
      extras: { tokenLabels: tags, tokenWords: words },
    });
  }
  // Span extraction: the answer is token 1 … 1 + (i % 2) of each window.
  const startPositions = new Int32Array(n).fill(1);
  const endPositions = Int32Array.from({ length: n }, (_, i) => 1 + (i % 2));
  return new FeatureSet(key, { ...base, labels: null, extras: { startPositions, endPositions } });
}
