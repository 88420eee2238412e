/**
 * Evaluation and prediction (docs/model.md §13.3): each dev or test set in order, one task at a
 * time, the model in eval mode and without gradients; predictions are the argmax for classification
 * and the raw output for regression.
 *
 * @module
 */

import { noGrad } from "../autograd/grad_mode.ts";
import { withScope } from "../autograd/scope.ts";
import type { Gpu } from "../gpu/device.ts";
import type { FeatureSet } from "../data/features.ts";
import { evalBatches } from "../data/loader.ts";
import { taskMetrics } from "../data/tasks.ts";
import type { CaMtl } from "../nn/ca_mtl/model.ts";

/** Metric function of a task: `(predictions, labels) → { key: value }`. */
export type MetricFn = (
  task: string,
  preds: Float64Array,
  labels: Float64Array,
) => Record<string, number>;

/** Each registered task's own metrics (GLUE's with HF 2.x key names). */
export const registeredMetrics: MetricFn = (task, preds, labels) =>
  taskMetrics(task, preds, labels);

/** Predictions of one set: per example, the class index or the regression value. */
export interface SetPredictions {
  task: string;
  predictions: Float64Array;
  /** Mean of the batch losses, when the set is labelled. */
  loss: number | null;
}

/**
 * Runs the model over `set` (eval mode, no gradients) and returns its predictions.
 * Restores the model's previous training mode afterwards.
 */
export async function predictSet(
  gpu: Gpu,
  model: CaMtl,
  set: FeatureSet,
  batchSize: number,
): Promise<SetPredictions> {
  const wasTraining = model.training;
  model.eval();
  const predictions = new Float64Array(set.size);
  let lossSum = 0, batches = 0, at = 0;
  try {
    await noGrad(async () => {
      for (const batch of evalBatches(set, batchSize)) {
        await withScope(gpu, async () => {
          const out = model.forward(batch);
          const logits = await out.logits.get(set.taskId)!.readFloat();
          const C = set.numLabels;
          for (let i = 0; i < batch.size; i++) {
            if (C === 1) {
              predictions[at + i] = logits[i];
            } else {
              let best = 0;
              for (let c = 1; c < C; c++) if (logits[i * C + c] > logits[i * C + best]) best = c;
              predictions[at + i] = best;
            }
          }
          at += batch.size;
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
  return { task: set.task, predictions, loss: batches ? lossSum / batches : null };
}

/** Dev metrics of one task, HF-style: `eval_loss` plus the task's metric keys. */
export async function evaluateSet(
  gpu: Gpu,
  model: CaMtl,
  set: FeatureSet,
  options: { batchSize: number; metrics: MetricFn },
): Promise<Record<string, number>> {
  if (!set.labels) {
    throw new TypeError(`Cannot evaluate "${set.task}": its ${set.key.split} set has no labels`);
  }
  const { predictions, loss } = await predictSet(gpu, model, set, options.batchSize);
  const labels = Float64Array.from(set.labels);
  const metrics = options.metrics(set.task, predictions, labels);
  return { eval_loss: loss ?? NaN, ...metrics };
}
