/**
 * A deterministic multi-task batch for the step benchmarks: token ids spread over a vocabulary
 * range, every position real, example i on task i mod (number of tasks), labels cycling through
 * each task's classes (a constant score for regression tasks).
 *
 * @module
 */

import type { HostBatch } from "../lib/nn/bert/inputs.ts";
import { taskRowsOf } from "../lib/nn/ca_mtl/model.ts";

/** Options of {@linkcode syntheticTaskBatch}. */
export interface SyntheticBatchOptions {
  /** Token ids are drawn from `[firstId, firstId + idRange)`. */
  firstId: number;
  idRange: number;
  /** Second half of each sequence is segment 1 (a sentence pair). Default false. */
  pairs?: boolean;
  /** The label of regression rows. */
  score: number;
}

/** `B` examples of `T` tokens over `tasks`, with per-task row slices and labels. */
export function syntheticTaskBatch(
  B: number,
  T: number,
  tasks: readonly { numLabels: number }[],
  { firstId, idRange, pairs = false, score }: SyntheticBatchOptions,
) {
  const host: HostBatch = {
    inputIds: Int32Array.from({ length: B * T }, (_, i) => firstId + (i * 7919) % idRange),
    tokenTypeIds: Int32Array.from({ length: B * T }, (_, i) => pairs && i % T >= T / 2 ? 1 : 0),
    attentionMask: new Int32Array(B * T).fill(1),
    batchSize: B,
    seqLength: T,
  };
  const taskIds = Int32Array.from({ length: B }, (_, i) => i % tasks.length);
  const slices = taskRowsOf(taskIds).map((s) => ({
    ...s,
    labels: tasks[s.taskId].numLabels === 1
      ? Float32Array.from(s.rows, () => score)
      : Int32Array.from(s.rows, (r) => r % tasks[s.taskId].numLabels),
  }));
  return { host, taskIds, slices };
}

/** The BERT-base step benches' batch: word-piece ids of the cased vocabulary, sentence pairs. */
export const BASE_VOCAB_BATCH: SyntheticBatchOptions = {
  firstId: 1000,
  idRange: 27000,
  pairs: true,
  score: 2.5,
};
