/**
 * Batches: examples from one or more tasks padded to the batch's own longest sequence (dynamic
 * padding, docs/model.md §4.4, §14.3), rounded up to a multiple of {@linkcode PAD_MULTIPLE}
 * tokens, as flat row-major `Int32Array`s, plus the task ids and the labels of each task kept in
 * that task's dtype (docs/model.md §14.4).
 *
 * The rounding is Hugging Face's `DataCollatorWithPadding(pad_to_multiple_of=8)`: the extra
 * positions are padding (mask 0), so no output at a real position changes, but attention, softmax
 * and layer norm then run on their vec4 kernels, which need a length divisible by 4
 * (docs/performance.md). It never pads past the sets' `maxSeqLength`.
 *
 * Heads beyond sequence classification find their targets in their task's slice: token tags
 * padded to the batch's length, answer start and end positions, marked spans; a
 * multiple-choice example occupies `choices` consecutive rows.
 *
 * @module
 */

import { IGNORE_INDEX } from "./feature_extras.ts";
import type { FeatureSet, LabelArray } from "./features.ts";
import { TaskStream } from "./task_stream.ts";

/** Batches are padded to a multiple of this many tokens unless a caller asks otherwise. */
export const PAD_MULTIPLE = 8;

/** Options of {@linkcode collateBatch}. */
export interface CollateOptions {
  /**
   * Round the padded length up to a multiple of this (default {@linkcode PAD_MULTIPLE}; 1 pads
   * to the longest example exactly), unless that would pass the sets' `maxSeqLength`.
   */
  padToMultipleOf?: number;
}

/** The longest length `longest` rounded up to `multiple`, or itself past `limit`. */
export function paddedLength(longest: number, multiple: number, limit: number): number {
  if (!Number.isInteger(multiple) || multiple < 1) {
    throw new RangeError(`Cannot collate a batch: padToMultipleOf is ${multiple}`);
  }
  const rounded = Math.ceil(longest / multiple) * multiple;
  return rounded <= limit ? rounded : longest;
}

/** The rows of a batch that belong to one task, with their labels. */
export interface TaskSlice {
  /** The task's id. */
  taskId: number;
  /** Task name, as in `--tasks`. */
  task: string;
  /** Row numbers in the batch, ascending, `[n_t]`. */
  rows: Int32Array;
  /**
   * Labels of those rows' examples, `[n_t]` (`Int32Array` classes or `Float32Array` scores;
   * for multiple choice the right choice), or null for test data and for token and span heads.
   */
  labels: LabelArray | null;
  /** Multiple choice: rows per example; `rows` holds each example's choices consecutively. */
  choices?: number;
  /** Token classification: `[n_t, T]` tag ids, `IGNORE_INDEX` (-100) on ignored tokens and padding. */
  tokenLabels?: Int32Array;
  /** Span extraction: `[n_t]` gold start token of each row (0 = `[CLS]`: no answer in it). */
  startPositions?: Int32Array;
  /** Span extraction: `[n_t]` gold end token of each row (inclusive). */
  endPositions?: Int32Array;
  /** Marked spans per example (WiC, WSC). */
  spanCount?: number;
  /** `[n_t, spanCount, 2]` start and end (exclusive) token of each marked span. */
  spans?: Int32Array;
}

/** A padded batch of B examples with T = the longest of them. */
export interface Batch {
  /** B, the number of rows (examples; a multiple-choice example has one row per choice). */
  size: number;
  /** T, the padded sequence length: the longest example in the batch. */
  seqLen: number;
  /** `[B, T]` token ids, padded with the tokenizer's pad id. */
  inputIds: Int32Array;
  /** `[B, T]` segment ids, 0 on padding. */
  tokenTypeIds: Int32Array;
  /** `[B, T]` 1 on real tokens, 0 on padding. */
  attentionMask: Int32Array;
  /** `[B]` task id of each row. */
  taskIds: Int32Array;
  /** `[B]` index of each row's example in its task's {@linkcode FeatureSet} (repeated per choice). */
  exampleIds: Int32Array;
  /** One slice per task present, by ascending task id (the order the model runs its heads in). */
  tasks: TaskSlice[];
}

/** One example to put in a batch: which feature set, which example. */
export interface BatchItem {
  /** The task's feature set. */
  features: FeatureSet;
  /** Index of the example in it. */
  index: number;
}

/**
 * Pads and packs examples into a {@linkcode Batch}, rows in the order given.
 *
 * @param items The examples; they may come from different tasks.
 * @param options `padToMultipleOf` (default 8).
 * @returns The batch, `T` = the longest example rounded up to `padToMultipleOf` (within
 *   `maxSeqLength`).
 * @throws {RangeError} When `items` is empty or an index is out of range.
 * @throws {TypeError} When two feature sets share a task id but are different sets.
 *
 * @example
 * ```ts
 * import { collateBatch } from "./loader.ts";
 * import { FeatureSet } from "./features.ts";
 * const key = { task: "rte", taskId: 0, split: "dev", vocabHash: "x", doLowerCase: false, maxSeqLength: 8 };
 * const set = new FeatureSet(key, {
 *   offsets: new Int32Array([0, 3, 5]), inputIds: new Int32Array([101, 7, 102, 101, 102]),
 *   tokenTypeIds: new Uint8Array(5), labels: new Int32Array([1, 0]), skipped: 0, padId: 0,
 * });
 * const b = collateBatch([{ features: set, index: 1 }, { features: set, index: 0 }], {
 *   padToMultipleOf: 1,
 * });
 * if (b.seqLen !== 3 || b.inputIds.join() !== "101,102,0,101,7,102") throw new Error();
 * if (collateBatch([{ features: set, index: 0 }]).seqLen !== 8) throw new Error(); // 3 → 8
 * ```
 */
export function collateBatch(
  items: readonly BatchItem[],
  { padToMultipleOf = PAD_MULTIPLE }: CollateOptions = {},
): Batch {
  if (items.length === 0) throw new RangeError("Cannot collate a batch: there are no examples");
  let T = 0, B = 0, limit = Infinity;
  for (const { features, index } of items) {
    if (!(index >= 0 && index < features.size)) {
      throw new RangeError(
        `Cannot collate a batch: example ${index} of "${features.task}" is outside [0, ${features.size})`,
      );
    }
    T = Math.max(T, features.length(index));
    B += features.choices;
    limit = Math.min(limit, features.key.maxSeqLength);
  }
  T = paddedLength(T, padToMultipleOf, limit);
  const inputIds = new Int32Array(B * T);
  const tokenTypeIds = new Int32Array(B * T);
  const attentionMask = new Int32Array(B * T);
  const taskIds = new Int32Array(B);
  const exampleIds = new Int32Array(B);
  const byTask = new Map<number, { set: FeatureSet; rows: number[]; examples: number[] }>();
  let r = 0;
  for (const { features: f, index } of items) {
    const entry = byTask.get(f.taskId);
    if (entry === undefined) byTask.set(f.taskId, { set: f, rows: [], examples: [] });
    else if (entry.set !== f) {
      throw new TypeError(
        `Cannot collate a batch: task id ${f.taskId} is used by both "${entry.set.task}" ${entry.set.key.split} and "${f.task}" ${f.key.split}`,
      );
    }
    const slot = byTask.get(f.taskId)!;
    slot.examples.push(index);
    for (let c = 0; c < f.choices; c++, r++) {
      const k = index * f.choices + c;
      const a = f.offsets[k], len = f.offsets[k + 1] - a;
      const row = r * T;
      inputIds.set(f.inputIds.subarray(a, a + len), row);
      if (f.padId !== 0) inputIds.fill(f.padId, row + len, row + T);
      for (let j = 0; j < len; j++) tokenTypeIds[row + j] = f.tokenTypeIds[a + j];
      attentionMask.fill(1, row, row + len);
      taskIds[r] = f.taskId;
      exampleIds[r] = index;
      slot.rows.push(r);
    }
  }
  const tasks: TaskSlice[] = [...byTask.entries()].sort((x, y) => x[0] - y[0]).map(
    ([taskId, { set, rows, examples }]) => ({
      taskId,
      task: set.task,
      rows: Int32Array.from(rows),
      labels: gather(set.labels, examples),
      ...sliceExtras(set, examples, T),
    }),
  );
  return { size: B, seqLen: T, inputIds, tokenTypeIds, attentionMask, taskIds, exampleIds, tasks };
}

function gather<T extends LabelArray>(source: T | null | undefined, examples: number[]): T | null {
  if (!source) return null;
  const out =
    (source instanceof Float32Array
      ? new Float32Array(examples.length)
      : new Int32Array(examples.length)) as T;
  for (let i = 0; i < examples.length; i++) out[i] = source[examples[i]];
  return out;
}

/** The head-specific targets of one task's examples in a batch of length T. */
function sliceExtras(set: FeatureSet, examples: number[], T: number): Partial<TaskSlice> {
  const x = set.extras;
  if (x === null) return {};
  const out: Partial<TaskSlice> = {};
  if (set.choices > 1) out.choices = set.choices;
  if (x.tokenLabels) {
    const labels = new Int32Array(examples.length * T).fill(IGNORE_INDEX);
    examples.forEach((e, i) => {
      labels.set(x.tokenLabels!.subarray(set.offsets[e], set.offsets[e + 1]), i * T);
    });
    out.tokenLabels = labels;
  }
  if (x.startPositions) out.startPositions = gather(x.startPositions, examples)!;
  if (x.endPositions) out.endPositions = gather(x.endPositions, examples)!;
  if (x.spans && x.spanCount) {
    const w = 2 * x.spanCount;
    const spans = new Int32Array(examples.length * w);
    examples.forEach((e, i) => spans.set(x.spans!.subarray(e * w, e * w + w), i * w));
    out.spanCount = x.spanCount;
    out.spans = spans;
  }
  return out;
}

/** Collates examples `indices` of one feature set. */
export function collateIndices(
  features: FeatureSet,
  indices: ArrayLike<number>,
  options: CollateOptions = {},
): Batch {
  const items: BatchItem[] = new Array(indices.length);
  for (let i = 0; i < indices.length; i++) items[i] = { features, index: indices[i] };
  return collateBatch(items, options);
}

/**
 * Evaluation batches of one task, in file order (the original's sequential eval sampler),
 * each padded to its own longest example (rounded up as {@linkcode collateBatch} does); the last
 * batch may be smaller.
 *
 * @param features One task's dev or test features.
 * @param batchSize Examples per batch (`--per_device_eval_batch_size`, 8 by default).
 * @throws {RangeError} When `batchSize` is not a positive integer.
 */
export function* evalBatches(features: FeatureSet, batchSize: number): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Cannot batch "${features.task}": batchSize is ${batchSize}`);
  }
  for (let start = 0; start < features.size; start += batchSize) {
    const end = Math.min(features.size, start + batchSize);
    const idx = new Int32Array(end - start);
    for (let i = 0; i < idx.length; i++) idx[i] = start + i;
    yield collateIndices(features, idx);
  }
}

/**
 * Training batches of one task, as PyTorch's `DataLoader(shuffle=True)` gives them: each epoch
 * a new seeded order, `batchSize` examples at a time, the last batch of an epoch possibly
 * short. The same seed gives the same batches.
 *
 * @param features One task's training features.
 * @param options `batchSize`; `epochs` (default 1, fractions stop part-way) or `steps` (that many
 *   batches, as `max_steps` counts them, whatever the epochs); `seed` (default 42).
 * @throws {RangeError} When `batchSize` or `steps` is not a positive integer or `epochs` is
 *   negative.
 * @example Two epochs of shuffled batches
 * ```ts ignore
 * for (const batch of trainBatches(train, { batchSize: 32, epochs: 2, seed: 12 })) {
 *   const { loss } = model.forward(batch);
 *   backward(loss!);
 * }
 * ```
 */
export function* trainBatches(
  features: FeatureSet,
  { batchSize, epochs = 1, steps, seed = 42 }: {
    batchSize: number;
    epochs?: number;
    steps?: number;
    seed?: number;
  },
): Generator<Batch> {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`Cannot batch "${features.task}": batchSize is ${batchSize}`);
  }
  if (!(epochs >= 0)) throw new RangeError(`Cannot batch "${features.task}": epochs is ${epochs}`);
  if (steps !== undefined && !(Number.isInteger(steps) && steps > 0)) {
    throw new RangeError(`Cannot batch "${features.task}": steps is ${steps}`);
  }
  const perEpoch = Math.ceil(features.size / batchSize);
  const total = steps ?? Math.ceil(perEpoch * epochs);
  // The samplers' per-task stream: seeded by (seed, task id), reshuffled each pass.
  const stream = new TaskStream(features, seed, features.taskId);
  for (let i = 0; i < total; i++) yield collateIndices(features, stream.take(batchSize, true));
}

/**
 * Evaluation batches of several tasks, one task after the other, each task in order.
 * The original evaluates `mnli-mm` with MNLI's task id; give its feature set that id.
 */
export function* evalBatchesByTask(
  sets: readonly FeatureSet[],
  batchSize: number,
): Generator<{ features: FeatureSet; batch: Batch }> {
  for (const features of sets) {
    for (const batch of evalBatches(features, batchSize)) yield { features, batch };
  }
}
