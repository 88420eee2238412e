/**
 * HF `BertForSequenceClassification`: BERT's pooled [CLS] vector, dropout, and a linear
 * classifier. Keys: `bert.*` and `classifier.weight` `[numLabels, C]`, `classifier.bias`, so a
 * checkpoint written by transformers loads here and one saved here loads in transformers. One
 * label is regression (MSE loss), more are classes (cross-entropy), as in HF.
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import { forwardScope } from "../../autograd/scope.ts";
import type { Gpu } from "../../gpu/device.ts";
import type { BertConfig } from "../../io/config.ts";
import type { ResolvedModel } from "../../io/hub.ts";
import { taskLoss } from "../loss.ts";
import type { LoadReport } from "../state_dict.ts";
import { BertClassifierModel, type SequenceClassificationOptions } from "./classifier_model.ts";
import { type BertBatch, toBertInputs } from "./model.ts";

export type { SequenceClassificationOptions } from "./classifier_model.ts";

/** Labels of a batch: class ids (`Int32Array`) or regression targets (`Float32Array`). */
export type Labels = Int32Array | Float32Array;

/** What {@linkcode BertForSequenceClassification.forward} returns. */
export interface SequenceClassifierOutput {
  /** `[B, numLabels]`. */
  logits: Tensor;
  /** Mean loss `[1]`, when labels were given. */
  loss?: Tensor;
}

/**
 * BERT with a sequence classification or regression head.
 *
 * @example Fine-tune one step
 * ```ts ignore
 * const model = (await BertForSequenceClassification.fromPretrained(gpu, "tiny-bert",
 *   { numLabels: 2 })).model.train();
 * const optimizer = new AdamW(groupParameters(model, { weightDecay: 0.01 }), { lr: 5e-5 });
 * const { loss } = model.forward(batch); // batch from collateIndices(features, rows)
 * backward(loss!);
 * clipGradNorm(model, 1.0);
 * optimizer.step();
 * zeroGrad(model);
 * ```
 */
export class BertForSequenceClassification extends BertClassifierModel {
  /**
   * Declares the model; call `materialize(gpu, seed)` or use `fromPretrained`.
   *
   * @throws {RangeError} when `numLabels` is not a positive integer
   */
  constructor(config: BertConfig, { numLabels = 2, seed = 42 } = {}) {
    super(config, numLabels, seed, {
      architecture: "BertForSequenceClassification",
      minLabels: 1,
      hint: "1 for regression",
      pooler: true,
    });
  }

  /**
   * Loads a Hugging Face checkpoint folder (or a cached hub id; it never downloads, see
   * `resolveModel`): `bert.*` with or without its prefix, and `classifier.*` when present; a
   * missing head (a plain `BertModel` checkpoint) starts fresh and is listed in
   * `report.missing`, as transformers warns. The model comes back in eval mode, as transformers
   * returns it; call `train()` to fine-tune. `origin` says where the weights came from.
   *
   * @throws {CheckpointError} on mis-shaped keys (a head with another label count included)
   * @throws {HubError} when `nameOrPath` is neither a folder nor cached
   */
  static async fromPretrained(
    gpu: Gpu,
    nameOrPath: string,
    options: SequenceClassificationOptions = {},
  ): Promise<{ model: BertForSequenceClassification; report: LoadReport; origin: ResolvedModel }> {
    return await BertClassifierModel.loadHead(
      gpu,
      nameOrPath,
      options,
      (config, numLabels, seed) => new BertForSequenceClassification(config, { numLabels, seed }),
    );
  }

  /**
   * Logits for a batch and, given labels (here or as `batch.labels`), the mean loss.
   *
   * @param batch a collated batch (`collateIndices`), a `HostBatch`, or uploaded `BertInputs`
   * @param labels `[B]` class ids, or targets when `numLabels` is 1
   * @throws {RangeError} when a class label is outside `[0, numLabels)`
   */
  forward(batch: BertBatch, labels?: Labels): SequenceClassifierOutput {
    const gpu = this.classifier.weight.value.gpu;
    return forwardScope(gpu, () => {
      const { inputs, labels: own } = toBertInputs(gpu, batch);
      const pooled = this.bert.pool(inputs);
      const logits = this.classifier.forward(this.dropout.forward(pooled));
      const y = labels ?? own;
      return y ? { logits, loss: taskLoss(logits, y) } : { logits };
    });
  }
}
