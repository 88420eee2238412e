/**
 * `BertClassifierModel`: what transformers' BERT models with a linear head share, keyed
 * `bert.*` and `classifier.*`: the encoder, dropout at `hidden_dropout_prob`, the classifier,
 * loading a Hugging Face folder (head optional, eval mode on return) and saving one with
 * `architectures` and `num_labels`. `BertForSequenceClassification` and
 * `BertForTokenClassification` extend it.
 *
 * @module
 */

import type { Gpu } from "../../gpu/device.ts";
import { type BertConfig, bertConfigToJson, readBertConfig } from "../../io/config.ts";
import { locateModel, type LocateOptions, type ResolvedModel } from "../../io/hub.ts";
import { Dropout, Linear } from "../layers.ts";
import { Module } from "../module.ts";
import { loadFolderWeights, type LoadReport, saveModelFolder } from "../state_dict.ts";
import { BertModel } from "./model.ts";

/** Options of `fromPretrained` of a BERT model with a classifier. */
export interface SequenceClassificationOptions {
  /**
   * Number of outputs (classes, tags; 1: regression). Default: the config's `num_labels`, else
   * the size of its `id2label`, else 2.
   */
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

/** How a subclass is named and how few outputs it accepts. */
export interface ClassifierKind {
  /** The transformers class name, written to `config.json`'s `architectures`. */
  architecture: string;
  /** The fewest outputs the head may have, and what they are, for the error. */
  minLabels: number;
  /** E.g. `1 for regression`. */
  hint: string;
  /** Whether the encoder has a pooler (transformers' token classifier has none). */
  pooler: boolean;
}

/**
 * BERT with a linear head keyed `classifier` (see the subclasses).
 *
 * @internal
 */
export abstract class BertClassifierModel extends Module {
  /** The encoder, keyed `bert`. */
  readonly bert: BertModel;
  /** Dropout before the classifier (`hidden_dropout_prob`). */
  readonly dropout: Dropout;
  /** The head, keyed `classifier`: `[numLabels, C]`. */
  readonly classifier: Linear;
  /** Number of outputs. */
  readonly numLabels: number;
  readonly #architecture: string;

  /** @throws {RangeError} when `numLabels` is not an integer ≥ `kind.minLabels` */
  protected constructor(config: BertConfig, numLabels: number, seed: number, kind: ClassifierKind) {
    super();
    if (!Number.isInteger(numLabels) || numLabels < kind.minLabels) {
      throw new RangeError(
        `Cannot build ${kind.architecture}: numLabels is ${numLabels}, expected an integer >= ` +
          `${kind.minLabels} (${kind.hint})`,
      );
    }
    this.numLabels = numLabels;
    this.#architecture = kind.architecture;
    this.bert = this.child("bert", new BertModel(config, { seed, addPoolingLayer: kind.pooler }));
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

  /** The label names by class index, from `config.json`'s `id2label`, or null without them. */
  get labelNames(): string[] | null {
    const map = this.config.extra.id2label as Record<string, unknown> | undefined;
    if (!map || configLabels(this.config) !== this.numLabels) return null;
    const names = Array.from({ length: this.numLabels }, (_, i) => map[String(i)]);
    return names.every((n) => typeof n === "string") ? names as string[] : null;
  }

  /**
   * Builds `make(config, numLabels, seed)` and loads a checkpoint folder into it: `bert.*`
   * with or without its prefix, `classifier.*` when present; eval mode on return.
   */
  protected static async loadHead<M extends BertClassifierModel>(
    gpu: Gpu,
    nameOrPath: string,
    options: SequenceClassificationOptions,
    make: (config: BertConfig, numLabels: number, seed?: number) => M,
  ): Promise<{ model: M; report: LoadReport; origin: ResolvedModel }> {
    const origin = await locateModel(nameOrPath, options.resolve);
    const config = await readBertConfig(`${origin.folder}/config.json`);
    const numLabels = options.numLabels ?? configLabels(config) ?? 2;
    const model = make(config, numLabels, options.seed).materialize(gpu, options.seed);
    // No config blame: the head's size may come from `numLabels`, not from config.json.
    const report = await loadFolderWeights(model, origin.folder, {
      optionalPrefix: "bert.",
      allowMissing: [/^bert\.pooler\./, /^classifier\./],
    });
    return { model: model.eval() as M, report, origin };
  }

  /**
   * Writes `model.safetensors` and `config.json` (with `architectures` and `num_labels`) into
   * `dir`, the layout `fromPretrained` and transformers read.
   */
  async savePretrained(dir: string): Promise<void> {
    const json: Record<string, unknown> = {
      ...bertConfigToJson(this.config),
      architectures: [this.#architecture],
      num_labels: this.numLabels,
    };
    if (configLabels(this.config) !== this.numLabels) {
      delete json.id2label; // names for another head size would mislabel this one
      delete json.label2id;
    }
    await saveModelFolder(dir, this, json);
  }
}
