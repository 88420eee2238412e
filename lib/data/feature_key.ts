/**
 * What identifies a feature set: the cache key of docs/model.md §14.5 (task, task id, split,
 * vocabulary hash, casing, max_seq_length, and for span extraction the window settings).
 *
 * @module
 */

import type { FeatureTokenizer } from "./features.ts";

/** What identifies a feature set: the cache key of docs/model.md §14.5. */
export interface FeatureKey {
  /** Registered task name (a GLUE task or one added with `registerTask`). */
  task: string;
  /** Position of the task in `--tasks`. */
  taskId: number;
  /** `train`, `dev` or `test`. */
  split: string;
  /** The tokenizer's vocabulary hash. */
  vocabHash: string;
  /** Whether the tokenizer lower-cases. */
  doLowerCase: boolean;
  /** Truncation length. */
  maxSeqLength: number;
  /** Span extraction: the stride between windows of a long context (`--doc_stride`). */
  docStride?: number;
  /** Span extraction: tokens kept of a question (`--max_query_length`). */
  maxQueryLength?: number;
}

/**
 * The key of features built with these settings: the tokenizer contributes its vocabulary
 * hash and casing; `extra` adds span extraction's window settings.
 */
export function featureKey(
  o: {
    task: string;
    taskId: number;
    split: string;
    tokenizer: FeatureTokenizer;
    maxSeqLength: number;
  },
  extra: Pick<FeatureKey, "docStride" | "maxQueryLength"> = {},
): FeatureKey {
  const { task, taskId, split, tokenizer, maxSeqLength } = o;
  const key = {
    task,
    taskId,
    split,
    vocabHash: tokenizer.vocabHash,
    doLowerCase: tokenizer.doLowerCase,
  };
  return { ...key, maxSeqLength, ...extra };
}
