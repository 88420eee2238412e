/**
 * A task's loss from its logits: cross-entropy over integer classes, or MSE for a one-output
 * (regression) head, as the released decoder does. Labels keep their own dtype (decision 9):
 * regression targets are never truncated.
 *
 * @module
 */

import { fromArray, type Tensor } from "../autograd/tensor.ts";
import { crossEntropy } from "../ops/cross_entropy.ts";
import { mseLoss } from "../ops/mse.ts";

/**
 * @param logits `[n, C]` @param labels host `[n]`: class indices (C > 1) or targets (C = 1)
 * @returns the mean loss `[1]`
 * @throws {RangeError} when a class label is not an integer in [0, C)
 */
export function taskLoss(logits: Tensor, labels: Int32Array | Float32Array): Tensor {
  const [n, C] = logits.shape;
  const gpu = logits.gpu;
  if (C === 1) {
    return mseLoss({ input: logits }, { target: fromArray(gpu, Float32Array.from(labels), [n]) });
  }
  const classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= C) {
      throw new RangeError(`Cannot compute the loss: label ${y} is not a class in 0..${C - 1}`);
    }
    classes[i] = y;
  }
  return crossEntropy({ logits }, { labels: fromArray(gpu, classes, [n], { dtype: "i32" }) });
}
