/**
 * HF `BertForTokenClassification`: BERT's last hidden states (no pooler), dropout, and a linear
 * classifier on every token. Keys: `bert.*` and `classifier.weight` `[numLabels, C]`,
 * `classifier.bias`, so a tagger written by transformers (an NER model, say) loads here and one
 * saved here loads in transformers. The loss is cross-entropy over the tokens whose label is not
 * -100, as in HF (docs/model.md §8.4).
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import { forwardScope } from "../../autograd/scope.ts";
import { IGNORE_INDEX } from "../../data/feature_extras.ts";
import type { Batch } from "../../data/loader.ts";
import type { Gpu } from "../../gpu/device.ts";
import type { BertConfig } from "../../io/config.ts";
import type { ResolvedModel } from "../../io/hub.ts";
import { tokenClassificationLoss } from "../loss.ts";
import type { LoadReport } from "../state_dict.ts";
import { BertClassifierModel, type SequenceClassificationOptions } from "./classifier_model.ts";
import type { BertBatch } from "./model.ts";

/** What {@linkcode BertForTokenClassification.forward} returns. */
export interface TokenClassifierOutput {
  /** `[B, T, numLabels]`: one score per tag for every token. */
  logits: Tensor;
  /** Mean loss `[1]` over the labelled tokens, when token labels were given. */
  loss?: Tensor;
}

/** A collated batch's token labels `[B, T]` in row order (-100 where none), if it has any. */
function rowTokenLabels(batch: Batch): Int32Array | undefined {
  if (!batch.tasks.some((t) => t.tokenLabels)) return undefined;
  const T = batch.seqLen, out = new Int32Array(batch.size * T).fill(IGNORE_INDEX);
  for (const t of batch.tasks) {
    t.rows.forEach((row, i) => {
      if (t.tokenLabels) out.set(t.tokenLabels.subarray(i * T, i * T + T), row * T);
    });
  }
  return out;
}

/**
 * BERT with a token-classification head (named-entity recognition, part-of-speech tagging).
 *
 * @example Tag a batch with a fine-tuned NER checkpoint
 * ```ts ignore
 * const { model } = await BertForTokenClassification.fromPretrained(gpu, "models/bert-ner");
 * const { logits } = model.forward(batch); // [B, T, 9]
 * const names = model.labelNames; // ["O", "B-MISC", …] from config.json's id2label
 * ```
 */
export class BertForTokenClassification extends BertClassifierModel {
  /**
   * Declares the model (its encoder has no pooler, as transformers builds it); call
   * `materialize(gpu, seed)` or use `fromPretrained`.
   *
   * @throws {RangeError} when `numLabels` is not an integer ≥ 2
   */
  constructor(config: BertConfig, { numLabels = 2, seed = 42 } = {}) {
    super(config, numLabels, seed, {
      architecture: "BertForTokenClassification",
      minLabels: 2,
      hint: "the number of tags",
      pooler: false,
    });
  }

  /**
   * Loads a Hugging Face checkpoint folder (or a cached hub id; it never downloads):
   * `bert.*` with or without its prefix, and `classifier.*` when present; a missing head (a
   * plain `BertModel` checkpoint) starts fresh and is listed in `report.missing`, and a pooler
   * in the checkpoint is listed in `report.unused`, as transformers warns. The model comes back
   * in eval mode; call `train()` to fine-tune.
   *
   * @param options `numLabels` (default: the config's `num_labels`, else `id2label`'s size,
   *   else 2), the `seed` of fresh weights and dropout, where to `resolve` a hub id
   * @throws {CheckpointError} on mis-shaped keys (a head with another tag count included)
   * @throws {HubError} when `nameOrPath` is neither a folder nor cached
   */
  static async fromPretrained(
    gpu: Gpu,
    nameOrPath: string,
    options: SequenceClassificationOptions = {},
  ): Promise<{ model: BertForTokenClassification; report: LoadReport; origin: ResolvedModel }> {
    return await BertClassifierModel.loadHead(
      gpu,
      nameOrPath,
      options,
      (config, numLabels, seed) => new BertForTokenClassification(config, { numLabels, seed }),
    );
  }

  /**
   * Logits for every token and, given token labels (here, as a host batch's `labels`, or in a
   * collated batch's task slices), the mean loss over the tokens whose label is not -100.
   *
   * @param batch a collated batch, a `HostBatch`, or uploaded `BertInputs`
   * @param labels `[B, T]` tag ids, -100 on tokens without a label (special tokens, padding,
   *   the pieces after a word's first)
   * @throws {RangeError} when a label other than -100 is outside `[0, numLabels)`
   * @throws {TypeError} when there are not B·T labels
   */
  forward(batch: BertBatch, labels?: Int32Array): TokenClassifierOutput {
    const gpu = this.classifier.weight.value.gpu;
    return forwardScope(gpu, () => {
      const sequence = this.bert.encode(batch);
      const logits = this.classifier.forward(this.dropout.forward(sequence));
      const own = "tasks" in batch
        ? rowTokenLabels(batch)
        : "labels" in batch && batch.labels
        ? Int32Array.from(batch.labels)
        : undefined;
      const y = labels ?? own;
      return y ? { logits, loss: tokenClassificationLoss(logits, y) } : { logits };
    });
  }
}
