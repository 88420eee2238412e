/**
 * A task's loss from its logits: cross-entropy over integer classes, or MSE for a one-output
 * (regression) head, as the released decoder does. Labels keep their own dtype (docs/model.md
 * §14.4): regression targets are never truncated. Token classification and span extraction
 * follow Hugging Face's `BertForTokenClassification` and `BertForQuestionAnswering` losses
 * (docs/model.md §8.4, §8.5).
 *
 * @module
 */

import { fromArray, type Tensor } from "../autograd/tensor.ts";
import { IGNORE_INDEX } from "../data/feature_extras.ts";
import { outsideMessage } from "../gpu/faults.ts";
import { crossEntropy } from "../ops/cross_entropy.ts";
import { add, scale } from "../ops/elementwise.ts";
import { gatherRows } from "../ops/gather.ts";
import { mseLoss } from "../ops/mse.ts";
import { sum } from "../ops/reduce.ts";
import { reshape } from "../ops/reshape.ts";
import { slice } from "../ops/slice.ts";
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

/**
 * Mean cross-entropy of the `keep` rows of `logits` `[N, K]` against `labels`, PyTorch's
 * `ignore_index` reduction: rows outside `keep` count neither in the sum nor in the mean. With
 * no row kept the loss is 0 (PyTorch returns NaN), so one empty slice cannot spoil a batch.
 */
function keptCrossEntropy(logits: Tensor, keep: number[], labels: number[]): Tensor {
  const gpu = logits.gpu;
  if (keep.length === 0) return scale({ a: sum({ x: logits }, {}) }, { s: 0 });
  const kept = keep.length === logits.shape[0]
    ? logits
    : gatherRows({ x: logits }, { index: fromArray(gpu, keep, [keep.length], { dtype: "i32" }) });
  return crossEntropy({ logits: kept }, {
    labels: fromArray(gpu, labels, [labels.length], { dtype: "i32" }),
  });
}

function labelsOf(task: string | undefined): string {
  return `labels${task ? ` of "${task}"` : ""}`;
}

/**
 * Token classification: cross-entropy averaged over the tokens whose label is not -100.
 *
 * @param logits `[n, T, k]`
 * @param tokenLabels host `[n, T]` tag ids, -100 where a token has no label
 * @param options.task the task's name, for messages
 * @returns the mean loss `[1]` (0 when every token is ignored)
 * @throws {TypeError} when there are not n·T labels
 * @throws {RangeError} for a label other than -100 outside [0, k), naming its row and token
 */
export function tokenClassificationLoss(
  logits: Tensor,
  tokenLabels: Int32Array,
  { task }: { task?: string } = {},
): Tensor {
  const [n, T, k] = logits.shape;
  if (tokenLabels.length !== n * T) {
    throw new TypeError(
      `Cannot use the token ${labelsOf(task)}: ${tokenLabels.length} labels for ${n} rows of ` +
        `${T} tokens; pad them to the batch's length with ${IGNORE_INDEX}`,
    );
  }
  const keep: number[] = [], labels: number[] = [];
  tokenLabels.forEach((v, i) => {
    if (v === IGNORE_INDEX) return;
    if (!(v >= 0 && v < k)) {
      const what = { action: "use", tensor: `token ${labelsOf(task)}`, limitName: "num_labels" };
      const position = `[${Math.floor(i / T)}, ${i % T}]`;
      throw new RangeError(
        outsideMessage(what, { value: v, position, limit: k }) +
          `; a token without a label is ${IGNORE_INDEX}`,
      );
    }
    keep.push(i);
    labels.push(v);
  });
  return keptCrossEntropy(reshape(logits, [n * T, k]), keep, labels);
}

/**
 * Span extraction: (CE(start) + CE(end)) / 2, with HF's rule that positions are clamped to
 * [0, T] and a position equal to T (outside the window) is left out of its mean.
 *
 * @param logits `[n, T, 2]`: start logits in `[..., 0]`, end logits in `[..., 1]`
 * @param startPositions host `[n]` gold start tokens
 * @param endPositions host `[n]` gold end tokens (inclusive)
 * @param options.task the task's name, for messages
 * @returns the mean loss `[1]`
 * @throws {TypeError} when there are not n positions of each kind
 */
export function spanExtractionLoss(
  logits: Tensor,
  startPositions: Int32Array,
  endPositions: Int32Array,
  { task }: { task?: string } = {},
): Tensor {
  const [n, T] = logits.shape;
  const sides = [startPositions, endPositions].map((positions, side) => {
    if (positions.length !== n) {
      throw new TypeError(
        `Cannot use the answer positions${task ? ` of "${task}"` : ""}: ${positions.length} ${
          side ? "end" : "start"
        } positions for ${n} rows`,
      );
    }
    const keep: number[] = [], labels: number[] = [];
    positions.forEach((p, i) => {
      const clamped = Math.min(Math.max(p, 0), T);
      if (clamped === T) return;
      keep.push(i);
      labels.push(clamped);
    });
    const one = reshape(slice({ x: logits }, { axis: 2, start: side, end: side + 1 }), [n, T]);
    return keptCrossEntropy(one, keep, labels);
  });
  return scale({ a: add({ a: sides[0], b: sides[1] }) }, { s: 0.5 });
}
