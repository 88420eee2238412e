/**
 * Examples → model features: token ids, token types, length (the attention mask is 1 on the
 * first `length` positions), label and task id (docs/model.md §14.3).
 *
 * A {@linkcode FeatureSet} holds one split of one task compactly: every example's unpadded
 * ids laid end to end in one `Int32Array`, token types in a `Uint8Array`, and an offsets table
 * (`offsets[i]..offsets[i+1]` is example i). Padding happens per batch in `loader.ts`
 * (dynamic padding, docs/model.md §14.3). Labels keep their task's dtype (§14.4): class
 * indices in an `Int32Array`, STS-B scores in a `Float32Array` (the original's
 * `torch.float`), never rounded to integers.
 *
 * A task is anything in the task registry (`tasks.ts`): the GLUE tasks, and tasks another
 * suite registers (such as the synthetic demo's), which build exactly like GLUE's. Heads beyond
 * sequence classification (token tags, answer spans, choices, marked spans) keep what they need
 * in the set's `extras` and `meta` (`feature_extras.ts`); `task_features.ts` builds them.
 *
 * @module
 */

import type { EncodeOptions, Encoding } from "../text/encoding.ts";
import { Growable } from "./_growable.ts";
import { type ExampleMeta, extrasProblem, type FeatureExtras } from "./feature_extras.ts";
import { type FeatureKey, featureKey } from "./feature_key.ts";
import { type GlueExample, readGlueExamples } from "./glue.ts";
import { getTask } from "./tasks.ts";

/**
 * The part of a BERT tokenizer the feature builder uses (`BertTokenizer` in
 * `lib/text/tokenizer.ts` satisfies it): pair encoding with `[CLS] A [SEP] B [SEP]`,
 * longest-first truncation to `maxLength`, and the identity of its vocabulary for the cache key.
 */
export interface FeatureTokenizer {
  /** `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, truncated longest-first to `maxLength`. */
  encode(textA: string, textB?: string, options?: EncodeOptions): Encoding;
  /** A hash of the vocabulary (part of the cache key). */
  readonly vocabHash: string;
  /** Whether text is lower-cased before WordPiece (part of the cache key). */
  readonly doLowerCase: boolean;
  /** Id of `[PAD]` (0 for BERT vocabularies). */
  readonly padId?: number;
}

export type { FeatureKey } from "./feature_key.ts";

/** Class indices (`Int32Array`) or regression scores (`Float32Array`). */
export type LabelArray = Int32Array | Float32Array;

/** One example's features, as views into its {@linkcode FeatureSet}. */
export interface Feature {
  /** Token ids without padding, `[length]`. */
  inputIds: Int32Array;
  /** Segment ids, `[length]`. */
  tokenTypeIds: Uint8Array;
  /** Real tokens; the attention mask is 1 on these and 0 on padding. */
  length: number;
  /** Class index, score, or null for test data. */
  label: number | null;
  /** Position of the task in `--tasks`. */
  taskId: number;
}

/** The arrays a {@linkcode FeatureSet} is made of. */
export interface FeatureArrays {
  /** `[N + 1]`, non-decreasing, `offsets[0] = 0`. */
  offsets: Int32Array;
  /** `[offsets[N]]`. */
  inputIds: Int32Array;
  /** `[offsets[N]]`. */
  tokenTypeIds: Uint8Array;
  /** `[N]`, or null for unlabelled (test) data. */
  labels: LabelArray | null;
  /** Rows the reader skipped (QQP short rows). */
  skipped: number;
  /** Id used to pad batches. */
  padId: number;
  /** Arrays for heads beyond sequence classification (`feature_extras.ts`). */
  extras?: FeatureExtras | null;
  /** Per-example information for post-processing and submission files. */
  meta?: ExampleMeta | null;
}

/**
 * One split of one task as features, stored compactly: every example's unpadded token ids end
 * to end, with an offsets table. Batches pad per batch (`evalBatches`, `trainBatches`,
 * `collateIndices`, the samplers).
 *
 * @example Inspect and batch a feature set
 * ```ts
 * import assert from "node:assert/strict";
 * import { FeatureSet } from "./features.ts";
 * import { collateIndices } from "./loader.ts";
 * const features = new FeatureSet(
 *   { task: "sst-2", taskId: 0, split: "dev", vocabHash: "-", doLowerCase: true, maxSeqLength: 8 },
 *   {
 *     offsets: Int32Array.of(0, 4, 7), // two examples, of 4 and 3 tokens
 *     inputIds: Int32Array.of(2, 4, 6, 3, 2, 5, 3),
 *     tokenTypeIds: new Uint8Array(7),
 *     labels: Int32Array.of(1, 0),
 *     skipped: 0,
 *     padId: 0,
 *   },
 * );
 * assert.equal(features.size, 2);
 * assert.deepEqual(features.get(1).inputIds, Int32Array.of(2, 5, 3));
 * const batch = collateIndices(features, [1, 0]);
 * assert.equal(batch.seqLen, 4);
 * assert.deepEqual(batch.inputIds, Int32Array.of(2, 5, 3, 0, 2, 4, 6, 3));
 * assert.deepEqual(batch.tasks[0].labels, Int32Array.of(0, 1));
 * ```
 */
export class FeatureSet implements FeatureArrays {
  /** What these features are (the cache key). */
  readonly key: FeatureKey;
  /** `[N + 1]`: example i is `offsets[i]..offsets[i+1]` of the id arrays. */
  readonly offsets: Int32Array;
  /** Every example's token ids, end to end, `[offsets[N]]`. */
  readonly inputIds: Int32Array;
  /** Every example's segment ids, end to end, `[offsets[N]]`. */
  readonly tokenTypeIds: Uint8Array;
  /** `[N]` class indices or scores, or null for unlabelled (test) data. */
  readonly labels: LabelArray | null;
  /** Rows the reader skipped (QQP short rows). */
  readonly skipped: number;
  /** Id batches are padded with. */
  readonly padId: number;
  /** Outputs of the task's head (1 = regression). */
  readonly numLabels: number;
  /** Arrays for heads beyond sequence classification, or null. */
  readonly extras: FeatureExtras | null;
  /** Per-example information for post-processing and submission files, or null. */
  readonly meta: ExampleMeta | null;

  /**
   * Wraps arrays as a feature set, checking that their lengths agree.
   *
   * @param key What these features are.
   * @param arrays The storage (not copied).
   * @throws {TypeError} When the arrays disagree in length.
   * @throws {RangeError} When `key.task` is not a registered task.
   */
  constructor(key: FeatureKey, arrays: FeatureArrays) {
    const sequences = arrays.offsets.length - 1;
    const tokens = sequences >= 0 ? arrays.offsets[sequences] : -1;
    const choices = arrays.extras?.choices ?? 1;
    const n = sequences / choices;
    if (!Number.isInteger(n)) {
      throw new TypeError(
        `Cannot build features of "${key.task}": ${sequences} sequences are not a multiple of ${choices} choices`,
      );
    }
    if (sequences < 0 || arrays.offsets[0] !== 0 || tokens !== arrays.inputIds.length) {
      throw new TypeError(
        `Cannot build features of "${key.task}": offsets end at ${tokens}, ids hold ${arrays.inputIds.length}`,
      );
    }
    if (arrays.tokenTypeIds.length !== tokens || (arrays.labels && arrays.labels.length !== n)) {
      throw new TypeError(
        `Cannot build features of "${key.task}": ${n} examples, ${tokens} ids, ${arrays.tokenTypeIds.length} token types, ${arrays.labels?.length} labels`,
      );
    }
    const problem = arrays.extras ? extrasProblem(arrays.extras, n, tokens) : null;
    if (problem !== null) throw new TypeError(`Cannot build features of "${key.task}": ${problem}`);
    this.key = Object.freeze({ ...key });
    this.offsets = arrays.offsets;
    this.inputIds = arrays.inputIds;
    this.tokenTypeIds = arrays.tokenTypeIds;
    this.labels = arrays.labels;
    this.skipped = arrays.skipped;
    this.padId = arrays.padId;
    this.numLabels = getTask(key.task).numLabels;
    this.extras = arrays.extras ?? null;
    this.meta = arrays.meta ?? null;
  }

  /** Number of examples (features; a multiple-choice example holds `choices` sequences). */
  get size(): number {
    return (this.offsets.length - 1) / this.choices;
  }

  /** Encoded sequences per example: the number of choices for multiple choice, else 1. */
  get choices(): number {
    return this.extras?.choices ?? 1;
  }

  /** Whether the set has gold labels of any kind (class, token tags or answer positions). */
  get labelled(): boolean {
    return this.labels !== null || this.extras?.tokenLabels !== undefined ||
      this.extras?.startPositions !== undefined;
  }

  /** The task name. */
  get task(): string {
    return this.key.task;
  }

  /** The task id (position in `--tasks`). */
  get taskId(): number {
    return this.key.taskId;
  }

  /** Real tokens in example `i` (the longest of its choices for multiple choice). */
  length(i: number): number {
    const c = this.choices;
    let longest = 0;
    for (let k = i * c; k < i * c + c; k++) {
      longest = Math.max(longest, this.offsets[k + 1] - this.offsets[k]);
    }
    return longest;
  }

  /**
   * Example `i` as views into the storage (for multiple choice, its sequence for `choice`).
   *
   * @throws {RangeError} When `i` is outside [0, size) or `choice` outside [0, choices).
   */
  get(i: number, choice = 0): Feature {
    if (!(i >= 0 && i < this.size) || !(choice >= 0 && choice < this.choices)) {
      throw new RangeError(
        `Cannot get feature ${i} (choice ${choice}) of "${this.task}": it has ${this.size} of ${this.choices} choice(s)`,
      );
    }
    const k = i * this.choices + choice;
    const a = this.offsets[k], b = this.offsets[k + 1];
    return {
      inputIds: this.inputIds.subarray(a, b),
      tokenTypeIds: this.tokenTypeIds.subarray(a, b),
      length: b - a,
      label: this.labels ? this.labels[i] : null,
      taskId: this.taskId,
    };
  }
}

/** Options for {@linkcode buildFeatures}. */
export interface BuildFeaturesOptions {
  /** Encodes the texts. */
  tokenizer: FeatureTokenizer;
  /** Registered task name (its definition decides the label dtype and head size). */
  task: string;
  /** Position of the task in `--tasks`. */
  taskId: number;
  /** `train`, `dev` or `test`. */
  split: string;
  /** Truncation length (128 by default in CA-MTL). */
  maxSeqLength: number;
}

/**
 * Tokenizes examples into a {@linkcode FeatureSet}, streaming: the texts are dropped as soon
 * as they are encoded. Each example becomes `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`,
 * truncated longest-first to `maxSeqLength`, unpadded.
 *
 * @example Features of two sentences
 * ```ts
 * import assert from "node:assert/strict";
 * import { BertTokenizer } from "../text/tokenizer.ts";
 * import { buildFeatures } from "./features.ts";
 * const tokenizer = BertTokenizer.fromVocab(
 *   ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "good", "bad", "film"],
 *   { doLowerCase: true },
 * );
 * const features = await buildFeatures(
 *   [
 *     { line: 2, textA: "Good film", textB: null, label: 1 },
 *     { line: 3, textA: "bad", textB: null, label: 0 },
 *   ],
 *   { tokenizer, task: "sst-2", taskId: 0, split: "train", maxSeqLength: 16 },
 * );
 * assert.equal(features.size, 2);
 * assert.deepEqual(features.get(0).inputIds, Int32Array.of(2, 4, 6, 3));
 * assert.deepEqual(features.labels, Int32Array.of(1, 0));
 * ```
 *
 * @param examples The task's examples, e.g. `readGlueExamples(...)`.
 * @param options Tokenizer, task, task id, split and max_seq_length.
 * @returns The features, in example order.
 * @throws {RangeError} For an unknown task, a task whose head needs more than text pairs
 * (token tags, spans, choices), a bad max_seq_length or task id, a class label
 * that is not an index into the task's labels (or a score that is not finite), or a
 * tokenizer that returns more than `maxSeqLength` tokens or token types above 255.
 * @throws {TypeError} When labelled and unlabelled examples are mixed or the tokenizer's
 * arrays disagree in length.
 */
export async function buildFeatures(
  examples: AsyncIterable<GlueExample> | Iterable<GlueExample>,
  options: BuildFeaturesOptions,
): Promise<FeatureSet> {
  const { tokenizer, taskId, split, maxSeqLength } = options;
  const def = getTask(options.task);
  const task = def.name;
  if ((def.head ?? "classification") !== "classification" || def.markedSpans !== undefined) {
    throw new RangeError(
      `Cannot build features of "${task}" from text pairs: its head is "${
        def.head ?? "classification"
      }"${def.markedSpans ? " with marked spans" : ""}; use buildTaskFeatures (task_features.ts)`,
    );
  }
  if (!Number.isInteger(maxSeqLength) || maxSeqLength < 3) {
    throw new RangeError(`Cannot build features of "${task}": maxSeqLength is ${maxSeqLength}`);
  }
  if (!Number.isInteger(taskId) || taskId < 0) {
    throw new RangeError(`Cannot build features of "${task}": taskId is ${taskId}`);
  }
  const regression = def.labels === null;
  const ids = new Growable((n) => new Int32Array(n), 1 << 16);
  const types = new Growable((n) => new Uint8Array(n), 1 << 16);
  const offsets = new Growable((n) => new Int32Array(n), 1 << 12);
  const labels = new Growable<Int32Array | Float32Array>(
    (n) => regression ? new Float32Array(n) : new Int32Array(n),
    1 << 12,
  );
  offsets.push(0);
  let labelled: boolean | null = null;
  const encodeOptions: EncodeOptions = { maxLength: maxSeqLength, padToMaxLength: false };
  for await (const ex of examples) {
    const enc = tokenizer.encode(ex.textA, ex.textB ?? undefined, encodeOptions);
    // A tokenizer that pads anyway: the real tokens are where the mask is 1.
    let len = enc.inputIds.length;
    while (len > 0 && enc.attentionMask[len - 1] === 0) len--;
    if (enc.tokenTypeIds.length !== enc.inputIds.length || len > maxSeqLength) {
      throw new RangeError(
        `Cannot build features of "${task}" line ${ex.line}: the tokenizer returned ${enc.inputIds.length} ids, ${enc.tokenTypeIds.length} token types and ${len} real tokens for maxSeqLength ${maxSeqLength}`,
      );
    }
    ids.reserve(len);
    types.reserve(len);
    for (let j = 0; j < len; j++) {
      const t = enc.tokenTypeIds[j];
      if (!(t >= 0 && t <= 255)) {
        throw new RangeError(`Cannot build features of "${task}" line ${ex.line}: token type ${t}`);
      }
      ids.data[ids.size++] = enc.inputIds[j];
      types.data[types.size++] = t;
    }
    offsets.push(ids.size);
    const has = ex.label !== null;
    if (labelled === null) labelled = has;
    if (labelled !== has) {
      throw new TypeError(
        `Cannot build features of "${task}" line ${ex.line}: labelled and unlabelled examples are mixed`,
      );
    }
    if (has) {
      const y = ex.label as number;
      if (
        regression ? !Number.isFinite(y) : !(Number.isInteger(y) && y >= 0 && y < def.numLabels)
      ) {
        throw new RangeError(
          `Cannot build features of "${task}" line ${ex.line}: label ${y} is not ${
            regression ? "a finite score" : `a class index in [0, ${def.numLabels})`
          }`,
        );
      }
      labels.push(y);
    }
  }
  return new FeatureSet(
    featureKey({ task, taskId, split, tokenizer, maxSeqLength }),
    {
      offsets: offsets.done(),
      inputIds: ids.done(),
      tokenTypeIds: types.done(),
      labels: labelled ? labels.done() : null,
      skipped: 0,
      padId: tokenizer.padId ?? 0,
    },
  );
}

/** Options for {@linkcode buildGlueFeatures}. */
export interface BuildGlueFeaturesOptions extends BuildFeaturesOptions {
  /** The GLUE folder holding `CoLA/`, `MNLI/`, ... */
  dataDir: string;
}

/**
 * Reads one GLUE split and tokenizes it, streaming (no cache; see `loadGlueFeatures`).
 *
 * @returns The features, with the count of skipped QQP rows in `skipped`.
 * @throws {RangeError|DataError} As `readGlueExamples` and {@linkcode buildFeatures}.
 */
export async function buildGlueFeatures(options: BuildGlueFeaturesOptions): Promise<FeatureSet> {
  let skipped = 0;
  const rows = readGlueExamples({ ...options, onSkip: () => skipped++ });
  const set = await buildFeatures(rows, options);
  return new FeatureSet(set.key, { ...set, skipped });
}
