/**
 * The task registry: what the data module needs to know about a task that is not in a file,
 * namely its head kind, its label list (or that it is a regression task), its head size and its
 * metrics. The GLUE tasks (`mnli-mm` included) are registered from the GLUE table, scored with
 * `glueComputeMetrics`, then the tasks beyond GLUE (`beyond_glue.ts`: SuperGLUE, WNUT-2017,
 * SQuAD, MRQA); another suite, such as the embedded synthetic demo, calls
 * {@linkcode registerTask} for its tasks, after which features, batches and samplers treat
 * them exactly as they treat a GLUE task.
 *
 * @example A task of one's own
 * ```ts
 * import assert from "node:assert/strict";
 * import { accuracy } from "./metrics.ts";
 * import { getTask, numLabels, registerTask, taskMetrics } from "./tasks.ts";
 * registerTask({
 *   name: "toy-topic",
 *   labels: ["sports", "science", "music"],
 *   numLabels: 3,
 *   metrics: (preds, labels) => ({ acc: accuracy(preds, labels) }),
 * });
 * assert.equal(numLabels("toy-topic"), 3);
 * assert.deepEqual(taskMetrics("toy-topic", [0, 2], [0, 1]), { acc: 0.5 });
 * assert.equal(getTask("sts-b").labels, null); // GLUE is registered already
 * ```
 *
 * @module
 */

import { beyondGlueDefinitions } from "./beyond_glue.ts";
import { GLUE_LABELS, KNOWN_GLUE_TASKS } from "./glue_tasks.ts";
import { glueComputeMetrics } from "./metrics.ts";

/**
 * What a task's head computes:
 * - `classification`: one output vector per example from the pooled `[CLS]` state (regression
 *   when `labels` is null); with `markedSpans`, the features also carry token spans to pool;
 * - `token-classification`: one tag distribution per token (`numLabels` = tags);
 * - `span-extraction`: a start and an end logit per token (`numLabels` = 2);
 * - `multiple-choice`: one score per encoded choice, softmax over the `numLabels` choices.
 */
export type HeadKind =
  | "classification"
  | "token-classification"
  | "span-extraction"
  | "multiple-choice";

/** The head kinds, in the order of {@linkcode HeadKind}'s documentation. */
export const HEAD_KINDS: readonly HeadKind[] = Object.freeze(
  [
    "classification",
    "token-classification",
    "span-extraction",
    "multiple-choice",
  ] as const,
);

/** Metrics of answer texts against each question's gold answers (span extraction). */
export type AnswerMetrics = (
  predictions: ReadonlyArray<string | null | undefined>,
  golds: readonly (readonly string[])[],
) => Record<string, number>;

/** What the data module knows about a task. */
export interface TaskDefinition {
  /** The task's name, as written in `--tasks` (letters, digits, `.`, `_`, `-`). */
  name: string;
  /**
   * Label strings in class-index order (the index is the class id the model predicts): class
   * names, BIO tags for token classification, choice numbers for multiple choice; null for a
   * regression task (float labels, a head of 1 output, MSE loss) and for span extraction.
   */
  labels: readonly string[] | null;
  /**
   * Outputs of the task's head: the number of labels (tags, choices), 1 for regression, 2
   * (start and end) for span extraction.
   */
  numLabels: number;
  /**
   * The task's metrics by key, from class indices (argmax of the logits) or, for regression,
   * raw scores, against the gold labels. `groups` gives each example's group where the metric
   * needs one: MultiRC's question, AX-g's sentence pair, and for token classification (where
   * `preds` and `labels` are tag indices per word) the sentence of each word. A
   * span-extraction task is scored on answer texts by `answerMetrics`; its `metrics` throws.
   */
  metrics(
    preds: ArrayLike<number>,
    labels: ArrayLike<number>,
    groups?: ArrayLike<number>,
  ): Record<string, number>;
  /** What the head computes; `classification` when absent. */
  head?: HeadKind;
  /**
   * Classification tasks whose features mark token spans for the head to pool (WiC's word in
   * each sentence, WSC's two mentions): how many spans each example has.
   */
  markedSpans?: number;
  /** Span extraction: exact match and F1 of answer texts (SQuAD's definitions). */
  answerMetrics?: AnswerMetrics;
  /**
   * A diagnostic task evaluated with another task's head and task id, as `mnli-mm` is with
   * MNLI's (AX-b and AX-g with SuperGLUE RTE's).
   */
  evaluatedWith?: string;
  /**
   * The GLUE task this one stands in for, if any (the demo suite's rating task for `sts-b`):
   * rules written for GLUE names, such as MT-Uncertainty's STS-B/MRPC score borrowing, follow
   * it. GLUE tasks are their own twins.
   */
  glueTwin?: string;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

// Filled on first use, not at load time: glue_tasks.ts re-exports from this module, so this
// module can be evaluated before the GLUE table it reads.
let registry: Map<string, TaskDefinition> | null = null;

function tasks(): Map<string, TaskDefinition> {
  if (registry === null) {
    registry = new Map();
    for (const name of KNOWN_GLUE_TASKS) {
      const labels = name === "sts-b" ? null : GLUE_LABELS[name];
      registry.set(
        name,
        Object.freeze({
          name,
          labels,
          numLabels: labels?.length ?? 1,
          metrics: (preds: ArrayLike<number>, gold: ArrayLike<number>) =>
            glueComputeMetrics(name, preds, gold),
        }),
      );
    }
    for (const def of beyondGlueDefinitions()) registry.set(def.name, freeze(def));
  }
  return registry;
}

function freeze(def: TaskDefinition): TaskDefinition {
  const { name, labels, numLabels, metrics, glueTwin, head, markedSpans, answerMetrics } = def;
  return Object.freeze({
    name,
    labels: labels === null ? null : Object.freeze([...labels]),
    numLabels,
    metrics,
    ...(glueTwin === undefined ? {} : { glueTwin }),
    ...(head === undefined ? {} : { head }),
    ...(markedSpans === undefined ? {} : { markedSpans }),
    ...(answerMetrics === undefined ? {} : { answerMetrics }),
    ...(def.evaluatedWith === undefined ? {} : { evaluatedWith: def.evaluatedWith }),
  });
}

function sameDefinition(a: TaskDefinition, b: TaskDefinition): boolean {
  const sameLabels = a.labels === null || b.labels === null
    ? a.labels === b.labels
    : a.labels.length === b.labels.length && a.labels.every((l, i) => l === b.labels![i]);
  return sameLabels && a.numLabels === b.numLabels && a.metrics === b.metrics &&
    a.glueTwin === b.glueTwin && (a.head ?? "classification") === (b.head ?? "classification") &&
    a.markedSpans === b.markedSpans && a.answerMetrics === b.answerMetrics &&
    a.evaluatedWith === b.evaluatedWith;
}

function checkHeadFields(name: string, head: HeadKind, def: TaskDefinition): void {
  const fail = (why: string) => new TypeError(`Cannot register task "${name}": ${why}`);
  if (head === "span-extraction") {
    if (def.labels !== null) throw fail("a span-extraction task has labels: null");
    if (typeof def.answerMetrics !== "function") {
      throw fail("a span-extraction task needs answerMetrics (answer texts against gold answers)");
    }
  } else if (def.answerMetrics !== undefined) {
    throw fail(`answerMetrics is for span-extraction tasks, not "${head}"`);
  }
  if ((head === "token-classification" || head === "multiple-choice") && def.labels === null) {
    throw fail(`a "${head}" task needs labels (its tags or choices)`);
  }
  if (def.markedSpans !== undefined) {
    if (head !== "classification" || !Number.isInteger(def.markedSpans) || def.markedSpans < 1) {
      throw fail(
        `markedSpans is ${def.markedSpans}; it is a positive count, for classification tasks`,
      );
    }
  }
}

/**
 * Registers a task so that features, batches, samplers and metrics accept it. Registering
 * the same definition again (same labels, head size and metrics function) does nothing.
 *
 * @param def The task; it is copied and frozen.
 * @returns The registered definition.
 * @throws {RangeError} For a name that is empty or has characters other than letters,
 * digits, `.`, `_` and `-`.
 * @throws {TypeError} When `numLabels` disagrees with `labels` (or with the head: 2 outputs for
 * span extraction), the labels are fewer than two or repeat, `metrics` is not a function, the
 * head kind is unknown or its fields do not fit it, or another definition has this name
 * (GLUE's included).
 * @example A three-class task scored by accuracy
 * ```ts
 * import assert from "node:assert/strict";
 * import { registerTask } from "./tasks.ts";
 * const topic = registerTask({
 *   name: "my-topic",
 *   labels: ["sports", "politics", "science"],
 *   numLabels: 3,
 *   metrics: (preds, labels) => ({
 *     acc: Array.from(preds).filter((p, i) => p === labels[i]).length / preds.length,
 *   }),
 * });
 * assert.deepEqual(topic.metrics([0, 2, 1], [0, 2, 2]), { acc: 2 / 3 });
 * ```
 */
export function registerTask(def: TaskDefinition): TaskDefinition {
  const { name, labels, numLabels, metrics } = def;
  const head = def.head ?? "classification";
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new RangeError(
      `Cannot register task "${name}": a name is letters, digits, ".", "_" and "-", starting with a letter or digit`,
    );
  }
  if (!HEAD_KINDS.includes(head)) {
    throw new TypeError(
      `Cannot register task "${name}": head "${head}" is not one of ${
        HEAD_KINDS.map((k) => `"${k}"`).join(", ")
      }`,
    );
  }
  checkHeadFields(name, head, def);
  if (labels !== null) {
    if (!Array.isArray(labels) || labels.length < 2) {
      throw new TypeError(
        `Cannot register task "${name}": a classification task needs at least two labels, got ${
          JSON.stringify(labels)
        }; use labels: null for a regression task`,
      );
    }
    if (new Set(labels).size !== labels.length || !labels.every((l) => typeof l === "string")) {
      throw new TypeError(
        `Cannot register task "${name}": labels ${JSON.stringify(labels)} are not distinct strings`,
      );
    }
  }
  const expected = head === "span-extraction" ? 2 : labels?.length ?? 1;
  if (numLabels !== expected) {
    throw new TypeError(
      `Cannot register task "${name}": numLabels is ${numLabels} but ${
        head === "span-extraction"
          ? "a span-extraction head has 2 outputs (start and end)"
          : labels === null
          ? "a regression task has 1 output"
          : `it has ${labels.length} labels`
      }`,
    );
  }
  if (typeof metrics !== "function") {
    throw new TypeError(`Cannot register task "${name}": metrics is not a function`);
  }
  const frozen = freeze(def);
  const known = tasks().get(name);
  if (known !== undefined) {
    if (sameDefinition(known, frozen)) return known;
    throw new TypeError(
      `Cannot register task "${name}": a different task of that name is registered (labels ${
        JSON.stringify(known.labels)
      }, ${known.numLabels} outputs)`,
    );
  }
  tasks().set(name, frozen);
  return frozen;
}

/** The GLUE task `name` stands in for: its `glueTwin`, else itself. */
export function glueTwinOf(name: string): string {
  return tasks().get(name)?.glueTwin ?? name;
}

/** The registered task names: GLUE's (`mnli-mm` included), then others in registration order. */
export function knownTasks(): string[] {
  return [...tasks().keys()];
}

/**
 * The definition of a registered task.
 *
 * @throws {RangeError} Naming the known tasks when `name` is not one of them.
 */
export function getTask(name: string): TaskDefinition {
  const def = tasks().get(name);
  if (def === undefined) {
    throw new RangeError(
      `Cannot use task "${name}": unknown task; known tasks are ${
        knownTasks().map((t) => `"${t}"`).join(", ")
      }`,
    );
  }
  return def;
}

/**
 * Number of outputs of a task's head (transformers' `glue_tasks_num_labels` for GLUE): 1 for
 * regression (STS-B), else the number of labels (3 for MNLI, 2 for the other GLUE tasks).
 *
 * @example
 * ```ts
 * import { numLabels } from "./tasks.ts";
 * if (numLabels("mnli") !== 3 || numLabels("sts-b") !== 1) throw new Error();
 * ```
 * @throws {RangeError} For an unknown task.
 */
export function numLabels(task: string): number {
  return getTask(task).numLabels;
}

/**
 * True for a regression task (float labels, MSE loss): STS-B among GLUE.
 *
 * @throws {RangeError} For an unknown task.
 */
export function isRegression(task: string): boolean {
  const def = getTask(task);
  return def.labels === null && (def.head ?? "classification") === "classification";
}

/**
 * What the task's head computes (see {@linkcode HeadKind}).
 *
 * @example
 * ```ts
 * import { headKind } from "./tasks.ts";
 * if (headKind("rte") !== "classification" || headKind("wnut17") !== "token-classification") {
 *   throw new Error();
 * }
 * ```
 * @throws {RangeError} For an unknown task.
 */
export function headKind(task: string): HeadKind {
  return getTask(task).head ?? "classification";
}

/**
 * The metrics of any registered task (`glueComputeMetrics` for GLUE).
 *
 * @param task A registered task name.
 * @param preds Class indices (argmax of the logits), or raw scores for a regression task.
 * @param labels Gold class indices or scores.
 * @param groups Each example's group, for tasks whose metrics need one (see
 * {@linkcode TaskDefinition.metrics}).
 * @returns The metric values by key.
 * @example
 * ```ts
 * import { taskMetrics } from "./tasks.ts";
 * if (taskMetrics("cola", [1, 0], [1, 0]).mcc !== 1) throw new Error();
 * ```
 * @throws {RangeError} For an unknown task, or as the task's metrics (empty inputs).
 * @throws {TypeError} As the task's metrics (length mismatch).
 */
export function taskMetrics(
  task: string,
  preds: ArrayLike<number>,
  labels: ArrayLike<number>,
  groups?: ArrayLike<number>,
): Record<string, number> {
  return getTask(task).metrics(preds, labels, groups);
}
