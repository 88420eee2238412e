/**
 * CA-MTL model configuration: the BERT config, the architecture, the task list and the
 * max_seq_length the conditional attention is sized for. Presets give the BERT sizes of
 * `bert-base-cased` and `bert-large-cased` (docs/model.md §9.3) and `CA-MTL-tiny`, this project's
 * small random-init config for demos and tests.
 *
 * @module
 */

import type { BertConfig } from "../../io/config.ts";
import { CheckpointError } from "../../io/errors.ts";
import { getTask, HEAD_KINDS, type HeadKind, knownTasks } from "../../data/tasks.ts";

/** Which encoder a model uses. `bert` is the plain hard-sharing multi-task baseline. */
export type Architecture = "CA-MTL-base" | "CA-MTL-large" | "bert";

/** A task head: its name, its size and what it computes (docs/model.md §8.1). */
export interface TaskSpec {
  /** The task's name, e.g. `"sst-2"` (`CaMtl.taskId` looks it up). */
  name: string;
  /**
   * The head's size: the number of classes (1 for regression, STS-B), of tags for token
   * classification, of choices for multiple choice; 2 (start, end) for span extraction.
   */
  numLabels: number;
  /** What the head computes; default: the registered task's kind, else `classification`. */
  head?: HeadKind;
  /**
   * Classification heads that pool this many marked token spans beside [CLS] (WiC, WSC);
   * default: the registered task's `markedSpans` (when `head` is the task's own); 0 for none.
   */
  markedSpans?: number;
}

/** A {@linkcode TaskSpec} whose head kind is known. */
export type ResolvedTaskSpec = TaskSpec & { head: HeadKind };

/**
 * `spec` with its head kind (and marked spans) filled from the task registry where absent,
 * checked against its size.
 *
 * @throws {RangeError} for an unknown head kind, a span-extraction head whose size is not 2,
 *   fewer than 2 choices, or marked spans on a head that is not classification
 */
export function resolveTaskSpec(spec: TaskSpec): ResolvedTaskSpec {
  const known = knownTasks().includes(spec.name) ? getTask(spec.name) : null;
  const head = spec.head ?? known?.head ?? "classification";
  const ownHead = head === (known?.head ?? "classification");
  const markedSpans = spec.markedSpans ?? (ownHead ? known?.markedSpans : undefined);
  const fail = (why: string) =>
    new RangeError(`Cannot build the head of task "${spec.name}": ${why}`);
  if (!HEAD_KINDS.includes(head)) {
    throw fail(`head "${head}" is not one of ${HEAD_KINDS.join(", ")}`);
  }
  if (!Number.isSafeInteger(spec.numLabels) || spec.numLabels < 1) {
    throw fail(`numLabels is ${spec.numLabels}; it is a positive integer`);
  }
  if (head === "span-extraction" && spec.numLabels !== 2) {
    throw fail(`numLabels is ${spec.numLabels}; a span-extraction head has 2 (start and end)`);
  }
  if (head === "multiple-choice" && spec.numLabels < 2) {
    throw fail(`numLabels is ${spec.numLabels}; a multiple-choice task has at least 2 choices`);
  }
  if (markedSpans) {
    if (head !== "classification" || !Number.isSafeInteger(markedSpans) || markedSpans < 0) {
      throw fail(`markedSpans is ${markedSpans}; it is a count, for classification heads`);
    }
    return { name: spec.name, numLabels: spec.numLabels, head, markedSpans };
  }
  return { name: spec.name, numLabels: spec.numLabels, head };
}

/** Everything needed to build a CA-MTL (or plain multi-task BERT) model. */
export interface CaMtlConfig {
  /** Which encoder: `CA-MTL-base`, `CA-MTL-large` or the plain `bert` baseline. */
  architecture: Architecture;
  /** The encoder's BERT sizes (e.g. {@linkcode BERT_BASE_CASED}, {@linkcode caMtlTinyBert}). */
  bert: BertConfig;
  /** The task heads; a task's id is its position here. */
  tasks: TaskSpec[];
  /** L: the conditional attention matrix is `[L, ⌈L/N⌉]`; C must be a multiple of L. */
  maxSeqLength: number;
}

function bertSizes(
  sizes: Pick<
    BertConfig,
    "hiddenSize" | "numHiddenLayers" | "numAttentionHeads" | "intermediateSize" | "vocabSize"
  >,
): BertConfig {
  return {
    ...sizes,
    hiddenAct: "gelu",
    hiddenDropoutProb: 0.1,
    attentionProbsDropoutProb: 0.1,
    maxPositionEmbeddings: 512,
    typeVocabSize: 2,
    layerNormEps: 1e-12,
    initializerRange: 0.02,
    extra: { model_type: "bert" },
  };
}

/** `bert-base-cased` sizes (its vocabulary has 28,996 tokens). */
export const BERT_BASE_CASED: BertConfig = bertSizes({
  hiddenSize: 768,
  numHiddenLayers: 12,
  numAttentionHeads: 12,
  intermediateSize: 3072,
  vocabSize: 28996,
});

/** `bert-large-cased` sizes. */
export const BERT_LARGE_CASED: BertConfig = bertSizes({
  hiddenSize: 1024,
  numHiddenLayers: 24,
  numAttentionHeads: 16,
  intermediateSize: 4096,
  vocabSize: 28996,
});

/**
 * `CA-MTL-tiny`: the base stack's structure (2 plain layers, 1 CLN layer, the adapter layer)
 * at C = 128 with 4 heads; with L = 64 the attention has 2 blocks of 32. The vocabulary size
 * is set by the caller's tokenizer.
 *
 * @example Declare CA-MTL-tiny for two tasks (no GPU needed to count its parameters)
 * ```ts
 * import assert from "node:assert/strict";
 * import { caMtlTinyBert } from "./config.ts";
 * import { CaMtl } from "./model.ts";
 * const bert = caMtlTinyBert(1000);
 * assert.equal(bert.hiddenSize, 128);
 * const model = new CaMtl({
 *   architecture: "CA-MTL-base",
 *   bert,
 *   tasks: [{ name: "sst-2", numLabels: 2 }, { name: "sts-b", numLabels: 1 }],
 *   maxSeqLength: 64,
 * });
 * assert.equal(model.taskId("sts-b"), 1);
 * assert.equal(model.countParameters().frozen, 0);
 * ```
 */
export function caMtlTinyBert(vocabSize: number): BertConfig {
  return {
    ...bertSizes({
      hiddenSize: 128,
      numHiddenLayers: 4,
      numAttentionHeads: 4,
      intermediateSize: 256,
      vocabSize,
    }),
    maxPositionEmbeddings: 128,
  };
}

/** Base checkpoint name each CA-MTL preset loads its pretrained weights from. */
export const BASE_CHECKPOINT: Readonly<Record<string, string>> = Object.freeze({
  "CA-MTL-base": "bert-base-cased",
  "CA-MTL-large": "bert-large-cased",
});

function describe(tasks: readonly TaskSpec[]): string {
  return tasks.map((spec) => {
    const t = resolveTaskSpec(spec);
    const kind = t.head === "classification" ? "" : `, ${t.head}`;
    const spans = t.markedSpans ? `, ${t.markedSpans} marked spans` : "";
    return `${t.name} (${t.numLabels} label${t.numLabels === 1 ? "" : "s"}${kind}${spans})`;
  }).join(", ");
}

function sameHead(a: TaskSpec, b: TaskSpec): boolean {
  const [x, y] = [resolveTaskSpec(a), resolveTaskSpec(b)];
  return x.name === y.name && x.numLabels === y.numLabels && x.head === y.head &&
    x.markedSpans === y.markedSpans;
}

/**
 * Throws unless the tasks asked for are the saved model's heads, in the same order (a task's
 * id is its position, and picks its head and its task embedding).
 *
 * @param saved the heads recorded in the model's `config.json`
 * @param asked the tasks of the run; an empty list means "the saved ones"
 * @throws {CheckpointError} listing both task lists
 */
export function checkSavedTasks(
  saved: readonly TaskSpec[],
  asked: readonly TaskSpec[],
  configFile: string,
): void {
  if (asked.length === 0) return;
  const same = saved.length === asked.length && saved.every((t, i) => sameHead(t, asked[i]));
  if (same) return;
  throw new CheckpointError(
    `Cannot use the model "${configFile}" for tasks ${describe(asked)}: it was saved with ` +
      `heads for ${describe(saved)}; ask for those tasks in that order (--tasks ` +
      `${saved.map((t) => t.name).join(" ")}), or start from a base model`,
    { file: configFile },
  );
}
