/**
 * A task's loss from its logits: cross-entropy over integer classes, or MSE for a one-output
 * (regression) head, as the released decoder does. Labels keep their own dtype (docs/model.md
 * §14.4): regression targets are never truncated.
 *
 * @module
 */

import { fromArray, type Tensor } from "../autograd/tensor.ts";
import { crossEntropy } from "../ops/cross_entropy.ts";
import { mseLoss } from "../ops/mse.ts";
import { checkFiniteTargets, checkIndexRange } from "./validate_inputs.ts";

/**
 * @param logits `[n, C]` @param labels host `[n]`: class indices (C > 1) or targets (C = 1)
 * @param options.task the task's name, for messages
 * @returns the mean loss `[1]`
 * @throws {RangeError} when a class label is not an integer in [0, C), or a target is NaN or
 *   infinite, naming the value and its position
 */
export function taskLoss(
  logits: Tensor,
  labels: Int32Array | Float32Array,
  { task }: { task?: string } = {},
): Tensor {
  const [n, C] = logits.shape;
  const gpu = logits.gpu;
  const tensor = `labels${task ? ` of "${task}"` : ""}`;
  if (C === 1) {
    checkFiniteTargets(labels, { action: "use", tensor });
    return mseLoss({ input: logits }, { target: fromArray(gpu, Float32Array.from(labels), [n]) });
  }
  checkIndexRange(labels, { action: "use", tensor, shape: [n], limit: C, limitName: "num_labels" });
  const classes = Int32Array.from(labels);
  return crossEntropy({ logits }, { labels: fromArray(gpu, classes, [n], { dtype: "i32" }) });
}
