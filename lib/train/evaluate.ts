/**
 * Evaluation and prediction (docs/model.md §13.3): each dev or test set in order, one task at a
 * time, the model in eval mode and without gradients. The model's outputs are gathered over the
 * whole set in the set's own layout (`TaskOutputs`: one row per example for classification, one
 * per encoded choice for multiple choice, one per real token for tagging and answer spans) and
 * decoded by the data module's `decodeOutputs`: argmax for classes, choices and tags, the best
 * span under `--max_answer_length` across a question's windows for answers. Dev sets are scored
 * with `scoreTask` (GLUE's metrics with HF 2.x key names, SuperGLUE's, entity F1, SQuAD EM/F1).
 *
 * @module
 */

import { noGrad } from "../autograd/grad_mode.ts";
import { withScope } from "../autograd/scope.ts";
import type { Gpu } from "../gpu/device.ts";
import type { FeatureSet } from "../data/features.ts";
import { evalBatches } from "../data/loader.ts";
import type { SpanDecodeOptions } from "../data/span_answers.ts";
import {
  decodeOutputs,
  scoreTask,
  type TaskOutputs,
  type TaskPredictions,
  unpadTokenRows,
} from "../data/task_outputs.ts";
import { headKind } from "../data/tasks.ts";
import type { CaMtl } from "../nn/ca_mtl/model.ts";

/**
 * Metric function of a classification task: `(predictions, labels) → { key: value }`; it
 * replaces the registry's metrics of tasks whose head is a classifier.
 */
export type MetricFn = (
  task: string,
  preds: Float64Array,
  labels: Float64Array,
) => Record<string, number>;

/** The model's raw outputs over one set, and the mean batch loss when the set is labelled. */
export interface SetOutputs {
  task: string;
  outputs: TaskOutputs;
  /** Mean of the batch losses, when the set is labelled. */
  loss: number | null;
}

/** Predictions of one set, by head kind (see `decodeOutputs`). */
export interface SetPredictions {
  task: string;
  predictions: TaskPredictions;
  /** Mean of the batch losses, when the set is labelled. */
  loss: number | null;
}

/** How to evaluate: batch size, and the answer decoding of span-extraction tasks. */
export interface EvalOptions {
  /** Examples per batch (`--per_device_eval_batch_size`). */
  batchSize: number;
  /** Span extraction: n-best size and `--max_answer_length`. */
  span?: SpanDecodeOptions;
}

/** Where each head kind's outputs go while the batches of a set run. */
function outputBuffers(set: FeatureSet) {
  const kind = headKind(set.task);
  const tokens = set.offsets[set.offsets.length - 1];
  const width = kind === "multiple-choice"
    ? set.choices
    : kind === "span-extraction"
    ? 2
    : set.numLabels;
  const perToken = kind === "token-classification" || kind === "span-extraction";
  return {
    kind,
    width,
    perToken,
    values: new Float32Array((perToken ? tokens : set.size) * width),
  };
}

/**
 * Runs the model over `set` (eval mode, no gradients) and gathers its outputs in the set's
 * layout. Restores the model's previous training mode afterwards.
 */
export async function collectOutputs(
  gpu: Gpu,
  model: CaMtl,
  set: FeatureSet,
  batchSize: number,
): Promise<SetOutputs> {
  const wasTraining = model.training;
  model.eval();
  const { kind, width, perToken, values } = outputBuffers(set);
  let lossSum = 0, batches = 0, at = 0;
  try {
    await noGrad(async () => {
      for (const batch of evalBatches(set, batchSize)) {
        await withScope(gpu, async () => {
          const out = model.forward(batch);
          const logits = await out.logits.get(set.taskId)!.readFloat();
          if (perToken) {
            unpadTokenRows(set, batch, logits, values, width);
          } else {
            values.set(logits, at);
            at += logits.length;
          }
          if (out.loss) {
            lossSum += (await out.loss.readFloat())[0];
            batches++;
          }
        });
      }
    });
  } finally {
    model.train(wasTraining);
  }
  let outputs: TaskOutputs;
  if (kind === "span-extraction") {
    const n = values.length / 2;
    const startLogits = new Float32Array(n), endLogits = new Float32Array(n);
    for (let t = 0; t < n; t++) {
      startLogits[t] = values[2 * t];
      endLogits[t] = values[2 * t + 1];
    }
    outputs = { kind, startLogits, endLogits };
  } else {
    outputs = { kind, logits: values };
  }
  return { task: set.task, outputs, loss: batches ? lossSum / batches : null };
}

/** Runs the model over `set` and decodes its predictions (see `decodeOutputs`). */
export async function predictSet(
  gpu: Gpu,
  model: CaMtl,
  set: FeatureSet,
  options: EvalOptions,
): Promise<SetPredictions> {
  const { outputs, loss } = await collectOutputs(gpu, model, set, options.batchSize);
  return { task: set.task, predictions: decodeOutputs(set, outputs, options.span), loss };
}

/**
 * Dev metrics of one task, HF-style: `eval_loss` plus the task's metric keys (`metrics`, when
 * given, for a classification task; the registry's through `scoreTask` otherwise).
 *
 * @returns the metrics, and the predictions they were computed from
 */
export async function evaluateSet(
  gpu: Gpu,
  model: CaMtl,
  set: FeatureSet,
  options: EvalOptions & { metrics?: MetricFn },
): Promise<{ metrics: Record<string, number>; predictions: TaskPredictions }> {
  const labelled = set.labels !== null || set.meta?.tags !== undefined ||
    set.meta?.golds !== undefined;
  if (!labelled) {
    throw new TypeError(`Cannot evaluate "${set.task}": its ${set.key.split} set has no labels`);
  }
  const { predictions, loss } = await predictSet(gpu, model, set, options);
  const custom = options.metrics;
  const metrics = custom && predictions.kind === "classification"
    ? custom(set.task, Float64Array.from(predictions.labels), Float64Array.from(set.labels!))
    : scoreTask(set, predictions);
  return { metrics: { eval_loss: loss ?? NaN, ...metrics }, predictions };
}
