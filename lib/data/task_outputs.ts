/**
 * After the model has run on a dev or test set: its raw outputs → predictions (class indices,
 * word tags or answer texts, by head kind) → the task's metrics. Token outputs are taken in the
 * set's own flat layout, one row per token of `set.inputIds` (padding removed);
 * {@linkcode unpadTokenRows} copies a padded batch's rows there.
 *
 * @module
 */

import { argmaxRows } from "./predictions.ts";
import type { Batch } from "./loader.ts";
import type { FeatureSet } from "./features.ts";
import { bestAnswers, type SpanDecodeOptions } from "./span_answers.ts";
import { getTask, type HeadKind, headKind } from "./tasks.ts";
import { wordTags } from "./token_features.ts";

/** A model's raw outputs on a whole set, by head kind. */
export type TaskOutputs =
  | {
    /** Classification: `[N, numLabels]` logits, or `[N]` scores for regression. */
    kind: "classification";
    logits: ArrayLike<number>;
  }
  | {
    /** Multiple choice: `[N, choices]`, one score per encoded choice. */
    kind: "multiple-choice";
    logits: ArrayLike<number>;
  }
  | {
    /** Token classification: `[T, numLabels]`, one row per token of `set.inputIds`. */
    kind: "token-classification";
    logits: ArrayLike<number>;
  }
  | {
    /** Span extraction: `[T]` start and `[T]` end logits, one per token of `set.inputIds`. */
    kind: "span-extraction";
    startLogits: ArrayLike<number>;
    endLogits: ArrayLike<number>;
  };

/** A set's predictions, by head kind. */
export type TaskPredictions =
  | {
    /** Per example: class (or choice) index, or the score of a regression task. */
    kind: "classification" | "multiple-choice";
    labels: Int32Array | Float64Array;
  }
  | {
    /** Per sentence: the predicted tag of each word. */
    kind: "token-classification";
    tags: string[][];
  }
  | {
    /** Per question (`set.meta.ids` order): the answer text. */
    kind: "span-extraction";
    answers: string[];
  };

function expectKind(set: FeatureSet, kind: HeadKind): void {
  if (headKind(set.task) !== kind) {
    throw new TypeError(
      `Cannot use ${kind} outputs for "${set.task}": its head is "${headKind(set.task)}"`,
    );
  }
}

/**
 * Turns raw outputs into predictions: argmax for classes, choices and token tags (a word takes
 * its first token's tag), the best valid span for answers (`bestAnswers`).
 *
 * @param set The features the outputs are for.
 * @param outputs The outputs, of the set's head kind.
 * @param options n-best size and longest answer, for span extraction.
 * @returns The predictions.
 * @throws {TypeError} When the outputs' kind or size does not fit the set.
 * @example
 * ```ts ignore
 * const predictions = decodeOutputs(devSet, { kind: "span-extraction", startLogits, endLogits });
 * console.log(scoreTask(devSet, predictions)); // { exact_match, f1 }
 * ```
 */
export function decodeOutputs(
  set: FeatureSet,
  outputs: TaskOutputs,
  options: SpanDecodeOptions = {},
): TaskPredictions {
  expectKind(set, outputs.kind);
  switch (outputs.kind) {
    case "classification":
    case "multiple-choice": {
      const width = outputs.kind === "multiple-choice" ? set.choices : set.numLabels;
      if (outputs.logits.length !== set.size * width) {
        throw new TypeError(
          `Cannot decode outputs of "${set.task}": ${outputs.logits.length} values for ${set.size} examples of ${width}`,
        );
      }
      const labels = width === 1
        ? Float64Array.from(outputs.logits)
        : argmaxRows(outputs.logits, width);
      return { kind: outputs.kind, labels };
    }
    case "token-classification": {
      const tags = wordTags(set, argmaxRows(outputs.logits, set.numLabels));
      return { kind: outputs.kind, tags };
    }
    case "span-extraction": {
      const answers = bestAnswers(set, outputs.startLogits, outputs.endLogits, options)
        .map((a) => a.text);
      return { kind: outputs.kind, answers };
    }
  }
}

/**
 * The task's metrics for a labelled set's predictions (the registry's definitions: GLUE's,
 * SuperGLUE's with their groups, entity P/R/F1 over whole sentences, SQuAD EM/F1).
 *
 * @throws {TypeError} When the set has no gold labels or the predictions do not fit it.
 */
export function scoreTask(set: FeatureSet, predictions: TaskPredictions): Record<string, number> {
  expectKind(set, predictions.kind);
  const def = getTask(set.task);
  const missing = () =>
    new TypeError(`Cannot score "${set.task}": its ${set.key.split} set has no gold labels`);
  switch (predictions.kind) {
    case "classification":
    case "multiple-choice":
      if (set.labels === null) throw missing();
      return def.metrics(predictions.labels, set.labels, set.extras?.groups);
    case "token-classification": {
      const gold = set.meta?.tags;
      if (!gold) throw missing();
      const ids = new Map(def.labels!.map((t, i) => [t, i]));
      const preds: number[] = [], golds: number[] = [], groups: number[] = [];
      gold.forEach((sentence, s) => {
        if (predictions.tags[s]?.length !== sentence.length) {
          throw new TypeError(
            `Cannot score "${set.task}": sentence ${s} has the wrong number of predicted tags`,
          );
        }
        sentence.forEach((tag, w) => {
          preds.push(ids.get(predictions.tags[s][w]) ?? 0);
          golds.push(ids.get(tag)!);
          groups.push(s);
        });
      });
      return def.metrics(preds, golds, groups);
    }
    case "span-extraction": {
      const golds = set.meta?.golds;
      if (!golds || !def.answerMetrics) throw missing();
      return def.answerMetrics(predictions.answers, golds);
    }
  }
}

/**
 * Copies a padded batch's per-token outputs for one set back into the set's flat layout.
 *
 * @param set The set the batch was drawn from.
 * @param batch The batch (its rows of `set.taskId` are copied).
 * @param values `[B, S, width]` outputs of the whole batch, row-major.
 * @param into `[T, width]` destination, one row per token of `set.inputIds`.
 * @param width Values per token (numLabels for tags, 1 for a start or end logit).
 */
export function unpadTokenRows(
  set: FeatureSet,
  batch: Batch,
  values: ArrayLike<number>,
  into: Float32Array | Float64Array,
  width = 1,
): void {
  const S = batch.seqLen;
  for (let r = 0; r < batch.size; r++) {
    if (batch.taskIds[r] !== set.taskId) continue;
    const e = batch.exampleIds[r];
    const a = set.offsets[e], len = set.offsets[e + 1] - a;
    for (let k = 0; k < len * width; k++) into[a * width + k] = values[(r * S) * width + k];
  }
}
