/**
 * The task registry: what the data module needs to know about a task that is not in a file,
 * namely its label list (or that it is a regression task), its head size and its metrics.
 * The GLUE tasks (`mnli-mm` included) are registered from the GLUE table, scored with
 * `glueComputeMetrics`; another suite, such as the embedded synthetic demo, calls
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

import { GLUE_LABELS, KNOWN_GLUE_TASKS } from "./glue_tasks.ts";
import { glueComputeMetrics } from "./metrics.ts";

/** What the data module knows about a task. */
export interface TaskDefinition {
  /** The task's name, as written in `--tasks` (letters, digits, `.`, `_`, `-`). */
  name: string;
  /**
   * Label strings in class-index order (the index is the class id the model predicts), or
   * null for a regression task (float labels, a head of 1 output, MSE loss).
   */
  labels: readonly string[] | null;
  /** Outputs of the task's head: the number of labels, or 1 for regression. */
  numLabels: number;
  /**
   * The task's metrics by key, from class indices (argmax of the logits) or, for regression,
   * raw scores, against the gold labels.
   */
  metrics(preds: ArrayLike<number>, labels: ArrayLike<number>): Record<string, number>;
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
  }
  return registry;
}

function sameDefinition(a: TaskDefinition, b: TaskDefinition): boolean {
  const sameLabels = a.labels === null || b.labels === null
    ? a.labels === b.labels
    : a.labels.length === b.labels.length && a.labels.every((l, i) => l === b.labels![i]);
  return sameLabels && a.numLabels === b.numLabels && a.metrics === b.metrics &&
    a.glueTwin === b.glueTwin;
}

/**
 * Registers a task so that features, batches, samplers and metrics accept it. Registering
 * the same definition again (same labels, head size and metrics function) does nothing.
 *
 * @param def The task; it is copied and frozen.
 * @returns The registered definition.
 * @throws {RangeError} For a name that is empty or has characters other than letters,
 * digits, `.`, `_` and `-`.
 * @throws {TypeError} When `numLabels` disagrees with `labels`, the labels are fewer than two
 * or repeat, `metrics` is not a function, or another definition has this name (GLUE's included).
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
  const { name, labels, numLabels, metrics, glueTwin } = def;
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new RangeError(
      `Cannot register task "${name}": a name is letters, digits, ".", "_" and "-", starting with a letter or digit`,
    );
  }
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
  const expected = labels?.length ?? 1;
  if (numLabels !== expected) {
    throw new TypeError(
      `Cannot register task "${name}": numLabels is ${numLabels} but ${
        labels === null ? "a regression task has 1 output" : `it has ${labels.length} labels`
      }`,
    );
  }
  if (typeof metrics !== "function") {
    throw new TypeError(`Cannot register task "${name}": metrics is not a function`);
  }
  const frozen: TaskDefinition = Object.freeze({
    name,
    labels: labels === null ? null : Object.freeze([...labels]),
    numLabels,
    metrics,
    ...(glueTwin === undefined ? {} : { glueTwin }),
  });
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
  return getTask(task).labels === null;
}

/**
 * The metrics of any registered task (`glueComputeMetrics` for GLUE).
 *
 * @param task A registered task name.
 * @param preds Class indices (argmax of the logits), or raw scores for a regression task.
 * @param labels Gold class indices or scores.
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
): Record<string, number> {
  return getTask(task).metrics(preds, labels);
}
