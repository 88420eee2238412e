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
import { type BertConfig, bertConfigToJson, readBertConfig } from "../../io/config.ts";
import { locateModel, type LocateOptions, type ResolvedModel } from "../../io/hub.ts";
import { taskLoss } from "../loss.ts";
import { Dropout, Linear } from "../layers.ts";
import { Module } from "../module.ts";
import { loadFolderWeights, type LoadReport, saveModelFolder } from "../state_dict.ts";
import { type BertBatch, BertModel, toBertInputs } from "./model.ts";

/** Labels of a batch: class ids (`Int32Array`) or regression targets (`Float32Array`). */
export type Labels = Int32Array | Float32Array;

/** What {@linkcode BertForSequenceClassification.forward} returns. */
export interface SequenceClassifierOutput {
  /** `[B, numLabels]`. */
  logits: Tensor;
  /** Mean loss `[1]`, when labels were given. */
  loss?: Tensor;
}

/** Options of {@linkcode BertForSequenceClassification.fromPretrained}. */
export interface SequenceClassificationOptions {
  /** Number of classes (1: regression). Default: the config's `num_labels`, else 2. */
  numLabels?: number;
  /** Seed of fresh weights (the classifier, when the checkpoint has none) and of dropout. */
  seed?: number;
  /** Where to look for a hub id in the cache (see `locateModel`); nothing is downloaded. */
  resolve?: LocateOptions;
}

/** The number of labels a `config.json` declares: `num_labels`, else `id2label`'s size. */
function configLabels(config: BertConfig): number | undefined {
  const n = config.extra.num_labels;
  if (typeof n === "number" && Number.isInteger(n) && n > 0) return n;
  const map = config.extra.id2label;
  if (map && typeof map === "object") return Object.keys(map).length || undefined;
  return undefined;
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
export class BertForSequenceClassification extends Module {
  /** The encoder, keyed `bert`. */
  readonly bert: BertModel;
  /** Dropout on the pooled vector (`hidden_dropout_prob`). */
  readonly dropout: Dropout;
  /** The head, keyed `classifier`: `[numLabels, C]`. */
  readonly classifier: Linear;
  /** Number of outputs: 1 for regression. */
  readonly numLabels: number;

  /**
   * Declares the model; call `materialize(gpu, seed)` or use `fromPretrained`.
   *
   * @throws {RangeError} when `numLabels` is not a positive integer
   */
  constructor(config: BertConfig, { numLabels = 2, seed = 42 } = {}) {
    super();
    if (!Number.isInteger(numLabels) || numLabels < 1) {
      throw new RangeError(
        `Cannot build BertForSequenceClassification: numLabels is ${numLabels}, expected an ` +
          `integer >= 1 (1 for regression)`,
      );
    }
    this.numLabels = numLabels;
    this.bert = this.child("bert", new BertModel(config, { seed }));
    this.dropout = this.child("dropout", new Dropout(config.hiddenDropoutProb, this.bert.seeds));
    this.classifier = this.child(
      "classifier",
      new Linear(config.hiddenSize, numLabels, { std: config.initializerRange }),
    );
  }

  /** The BERT configuration. */
  get config(): BertConfig {
    return this.bert.config;
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
    const origin = await locateModel(nameOrPath, options.resolve);
    const { folder } = origin;
    const config = await readBertConfig(`${folder}/config.json`);
    const numLabels = options.numLabels ?? configLabels(config) ?? 2;
    const model = new BertForSequenceClassification(config, { numLabels, seed: options.seed })
      .materialize(gpu, options.seed);
    // No config blame: the head's size may come from `numLabels`, not from config.json.
    const report = await loadFolderWeights(model, folder, {
      optionalPrefix: "bert.",
      allowMissing: [/^bert\.pooler\./, /^classifier\./],
    });
    return { model: model.eval(), report, origin };
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
      const pooled = this.bert.forward(inputs).pooled;
      const logits = this.classifier.forward(this.dropout.forward(pooled));
      const y = labels ?? own;
      return y ? { logits, loss: taskLoss(logits, y) } : { logits };
    });
  }

  /**
   * Writes `model.safetensors` and `config.json` (with `architectures` and `num_labels`) into
   * `dir`, the layout `fromPretrained` and transformers read.
   */
  async savePretrained(dir: string): Promise<void> {
    const config: Record<string, unknown> = {
      ...bertConfigToJson(this.config),
      architectures: ["BertForSequenceClassification"],
      num_labels: this.numLabels,
    };
    if (configLabels(this.config) !== this.numLabels) {
      delete config.id2label; // names for another head size would mislabel this one
      delete config.label2id;
    }
    await saveModelFolder(dir, this, config);
  }
}
