/**
 * The task heads of `CaMtl`, one per task under `decoders.N`, by head kind (docs/model.md §8.1,
 * §8.4 to §8.7). Each runs on its own task's rows of the shared encoder's output:
 *
 * | kind | keys | logits | loss (HF class it follows) |
 * | --- | --- | --- | --- |
 * | classification | `dropout`, `model` | `[n_t, k_t]` | CE, or MSE for k_t = 1 (the released decoder) |
 * | token-classification | `dropout`, `classifier` | `[n_t, T, k_t]` | CE over labels ≠ -100 (`BertForTokenClassification`) |
 * | span-extraction | `qa_outputs` | `[n_t, T, 2]` | (CE(start) + CE(end)) / 2 (`BertForQuestionAnswering`) |
 * | multiple-choice | `dropout`, `classifier` | `[n_t / k_t, k_t]` | CE over choices (`BertForMultipleChoice`) |
 *
 * A classification head with marked spans (WiC, WSC) reads `[p, m_1, …, m_S]`: the pooled [CLS]
 * state and the mean sequence state of each span, so its `model` is `(1 + S)·C → k_t`.
 *
 * @module
 */

import { fromArray, type Tensor } from "../../autograd/tensor.ts";
import type { TaskSlice } from "../../data/loader.ts";
import { gatherRows } from "../../ops/gather.ts";
import { matmul } from "../../ops/matmul.ts";
import { reshape } from "../../ops/reshape.ts";
import { concat } from "../../ops/slice.ts";
import { Dropout, Linear } from "../layers.ts";
import { spanExtractionLoss, taskLoss, tokenClassificationLoss } from "../loss.ts";
import { Module } from "../module.ts";
import type { SeedStream } from "../seeds.ts";
import type { ResolvedTaskSpec } from "./config.ts";

/**
 * The rows of one task in a batch and their targets: class indices or regression targets in
 * `labels`, and the head-specific ones of {@linkcode TaskSlice} (token tags, answer positions,
 * marked spans, choices per example).
 */
export interface TaskRows extends
  Partial<
    Pick<
      TaskSlice,
      "choices" | "tokenLabels" | "startPositions" | "endPositions" | "spanCount" | "spans"
    >
  > {
  /** The task's position in the model's task list. */
  taskId: number;
  /** Row numbers in the batch, ascending (a multiple-choice example's choices consecutive). */
  rows: Int32Array;
  /**
   * Labels of those rows (per example for multiple choice: the right choice), or null when
   * unlabelled (test data, MT-Uncertainty scoring, token and span heads).
   */
  labels: Int32Array | Float32Array | null;
}

/** What a head reads: the whole batch's encoder outputs and its own task's rows. */
export interface HeadInputs {
  /**
   * `[B, T, C]` last hidden states of the whole batch (`[B, 1, C]`, [CLS] only, when no head
   * of the batch reads the sequence).
   */
  sequence: Tensor;
  /** `[B, C]` pooled [CLS] states of the whole batch. */
  pooled: Tensor;
  /** The task's rows and targets. */
  slice: TaskRows;
}

/** Sizes every head is built from. */
export interface HeadSizes {
  /** C, the encoder's hidden size. */
  hidden: number;
  /** Init std of the head's weights (`initializer_range`). */
  std: number;
  /** Dropout before the token and multiple-choice classifiers (`hidden_dropout_prob`). */
  dropout: number;
}

/** A task head: logits from the task's rows, and the task's mean loss from them. */
export abstract class TaskHead extends Module {
  /** The task, with its head kind resolved. */
  readonly task: ResolvedTaskSpec;

  constructor(task: ResolvedTaskSpec) {
    super();
    this.task = task;
  }

  /**
   * Whether the head reads the sequence output beyond [CLS]. When no head of a batch does, the
   * encoder's last layer computes the [CLS] position only (docs/model.md §8.8) and `sequence`
   * is `[B, 1, C]`.
   */
  get readsSequence(): boolean {
    return false;
  }

  /** The task's logits (shapes in the module doc). */
  abstract forward(inputs: HeadInputs): Tensor;

  /**
   * The task's mean loss `[1]`, or null when the slice carries no targets; here, of the
   * slice's `labels` (cross-entropy over classes or choices, MSE for one output).
   */
  loss(logits: Tensor, { labels }: TaskRows): Tensor | null {
    return labels ? taskLoss(logits, labels, { task: this.task.name }) : null;
  }

  /** A message prefix naming the task. */
  protected cannot(what: string): string {
    return `Cannot ${what} of task "${this.task.name}"`;
  }
}

/** `x`'s rows of the slice (`x` itself when they are all of its rows, in order). */
function ownRows(x: Tensor, { rows }: TaskRows): Tensor {
  if (rows.length === x.shape[0] && rows.every((r, i) => r === i)) return x;
  return gatherRows({ x }, { index: fromArray(x.gpu, rows, [rows.length], { dtype: "i32" }) });
}

/**
 * The released decoder (`decoders.N.dropout`, `decoders.N.model`): dropout with p = 0.1 on the
 * pooled [CLS] state, concatenated first with the mean state of each marked span when the
 * task has them, then a linear map to k_t (docs/model.md §8.1, §8.7).
 */
export class ClassificationHead extends TaskHead {
  /** Dropout before the linear map (key `dropout`, no parameters). */
  readonly dropout: Dropout;
  /** `(1 + S)·C → k_t` (key `model`). */
  readonly model: Linear;

  constructor(task: ResolvedTaskSpec, sizes: HeadSizes, seeds: SeedStream) {
    super(task);
    this.dropout = this.child("dropout", new Dropout(0.1, seeds));
    const width = (1 + (task.markedSpans ?? 0)) * sizes.hidden;
    this.model = this.child("model", new Linear(width, task.numLabels, { std: sizes.std }));
  }

  /** Marked spans are read from the sequence. */
  override get readsSequence(): boolean {
    return (this.task.markedSpans ?? 0) > 0;
  }

  /** @returns logits `[n_t, k_t]` */
  override forward({ sequence, pooled, slice }: HeadInputs): Tensor {
    let features = ownRows(pooled, slice);
    if (this.task.markedSpans) {
      features = concat({ a: features, b: this.#spanStates(ownRows(sequence, slice), slice) }, {
        axis: 1,
      });
    }
    return this.model.forward(this.dropout.forward(features));
  }

  /** `[n, S·C]`: the mean of `sequence` `[n, T, C]` over each marked span, spans side by side. */
  #spanStates(sequence: Tensor, slice: TaskRows): Tensor {
    const [n, T, C] = sequence.shape, S = this.task.markedSpans!;
    const spans = slice.spans;
    if (!spans || slice.spanCount !== S || spans.length !== n * S * 2) {
      throw new TypeError(
        `${this.cannot("pool the marked spans")}: the batch carries ${
          spans ? `${spans.length / 2} spans for ${n} rows` : "none"
        }; it needs ${S} per row (collate its features with collateBatch)`,
      );
    }
    // weights[i, s, t] = 1 / (end − start) on the span's tokens: one batched product pools.
    const weights = new Float32Array(n * S * T);
    for (let k = 0; k < n * S; k++) {
      const start = spans[2 * k], end = spans[2 * k + 1];
      if (!(start >= 0 && start < end && end <= T)) {
        throw new RangeError(
          `${this.cannot("pool the marked spans")}: span ${k % S} of row ${
            Math.floor(k / S)
          } is [${start}, ${end}); a span is [start, end) with 0 <= start < end <= T = ${T}`,
        );
      }
      weights.fill(1 / (end - start), k * T + start, k * T + end);
    }
    const a = fromArray(sequence.gpu, weights, [n, S, T]);
    return reshape(matmul({ a, b: sequence }), [n, S * C]);
  }
}

/** HF's `dropout` + `classifier` pair (`hidden_dropout_prob`, C → `outputs`). */
abstract class DropoutClassifierHead extends TaskHead {
  /** Dropout before the classifier (key `dropout`, no parameters). */
  readonly dropout: Dropout;
  /** `C → outputs` (key `classifier`). */
  readonly classifier: Linear;

  constructor(task: ResolvedTaskSpec, sizes: HeadSizes, seeds: SeedStream, outputs: number) {
    super(task);
    this.dropout = this.child("dropout", new Dropout(sizes.dropout, seeds));
    this.classifier = this.child(
      "classifier",
      new Linear(sizes.hidden, outputs, { std: sizes.std }),
    );
  }
}

/**
 * HF `BertForTokenClassification`'s head: dropout, then `classifier` C → k_t on every token
 * (docs/model.md §8.4).
 */
export class TokenClassificationHead extends DropoutClassifierHead {
  constructor(task: ResolvedTaskSpec, sizes: HeadSizes, seeds: SeedStream) {
    super(task, sizes, seeds, task.numLabels);
  }

  /** @returns logits `[n_t, T, k_t]` */
  override get readsSequence(): boolean {
    return true;
  }

  override forward({ sequence, slice }: HeadInputs): Tensor {
    return this.classifier.forward(this.dropout.forward(ownRows(sequence, slice)));
  }

  /** Cross-entropy averaged over the tokens whose label is not -100 (docs/model.md §8.4). */
  override loss(logits: Tensor, { tokenLabels }: TaskRows): Tensor | null {
    return tokenLabels
      ? tokenClassificationLoss(logits, tokenLabels, { task: this.task.name })
      : null;
  }
}

/**
 * HF `BertForQuestionAnswering`'s head: `qa_outputs` C → 2 on every token, start logits in
 * `[..., 0]` and end logits in `[..., 1]` (docs/model.md §8.5).
 */
export class SpanExtractionHead extends TaskHead {
  /** `C → 2` (key `qa_outputs`). */
  readonly qaOutputs: Linear;

  constructor(task: ResolvedTaskSpec, sizes: HeadSizes) {
    super(task);
    this.qaOutputs = this.child("qa_outputs", new Linear(sizes.hidden, 2, { std: sizes.std }));
  }

  /** @returns logits `[n_t, T, 2]` */
  override get readsSequence(): boolean {
    return true;
  }

  override forward({ sequence, slice }: HeadInputs): Tensor {
    return this.qaOutputs.forward(ownRows(sequence, slice));
  }

  /** (CE(start) + CE(end)) / 2 under HF's clamping rule (docs/model.md §8.5). */
  override loss(logits: Tensor, { startPositions, endPositions }: TaskRows): Tensor | null {
    if (!startPositions || !endPositions) return null;
    return spanExtractionLoss(logits, startPositions, endPositions, { task: this.task.name });
  }
}

/**
 * HF `BertForMultipleChoice`'s head: dropout and `classifier` C → 1 on each encoded choice's
 * pooled state, one row of scores per example (docs/model.md §8.6).
 */
export class MultipleChoiceHead extends DropoutClassifierHead {
  constructor(task: ResolvedTaskSpec, sizes: HeadSizes, seeds: SeedStream) {
    super(task, sizes, seeds, 1);
  }

  /** @returns scores `[n_t / k_t, k_t]`, k_t = the slice's `choices` (else `numLabels`) */
  override forward({ pooled, slice }: HeadInputs): Tensor {
    const choices = slice.choices ?? this.task.numLabels, n = slice.rows.length;
    if (!(Number.isInteger(choices) && choices >= 2) || n % choices !== 0) {
      throw new TypeError(
        `${this.cannot("score the choices")}: ${n} rows are not whole examples of ${choices} ` +
          `choices (at least 2, each example's choices in consecutive rows)`,
      );
    }
    const scores = this.classifier.forward(this.dropout.forward(ownRows(pooled, slice)));
    return reshape(scores, [n / choices, choices]);
  }
}

/** The head `task` asks for. */
export function makeHead(
  task: ResolvedTaskSpec,
  sizes: HeadSizes,
  seeds: SeedStream,
): TaskHead {
  switch (task.head) {
    case "classification":
      return new ClassificationHead(task, sizes, seeds);
    case "token-classification":
      return new TokenClassificationHead(task, sizes, seeds);
    case "span-extraction":
      return new SpanExtractionHead(task, sizes);
    case "multiple-choice":
      return new MultipleChoiceHead(task, sizes, seeds);
  }
}
