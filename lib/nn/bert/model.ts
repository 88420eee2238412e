/**
 * HF `BertModel`: embeddings, a stack of encoder layers and the tanh pooler on [CLS]. Keys:
 * `embeddings.*`, `encoder.layer.N.*`, `pooler.dense.*` (the enclosing model adds `bert.`).
 *
 * @module
 */

import { forwardScope } from "../../autograd/scope.ts";
import type { Tensor } from "../../autograd/tensor.ts";
import type { Batch } from "../../data/loader.ts";
import { type BertConfig, bertConfigToJson, readBertConfig } from "../../io/config.ts";
import { locateModel, type LocateOptions, type ResolvedModel } from "../../io/hub.ts";
import type { Gpu } from "../../gpu/device.ts";
import { loadFolderWeights, type LoadReport, saveModelFolder } from "../state_dict.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { tanh } from "../../ops/tanh.ts";
import { Linear, ModuleList } from "../layers.ts";
import { Module } from "../module.ts";
import { SeedStream } from "../seeds.ts";
import { BertEmbeddings } from "./embeddings.ts";
import { type BertInputs, type HostBatch, uploadBatch, uploadCollated } from "./inputs.ts";
import { BertLayer, plainNorm } from "./layer.ts";
import type { LayerNorm } from "../layers.ts";

/** HF `BertPooler`: `tanh(dense(s[:, 0]))`. */
export class BertPooler extends Module {
  readonly dense: Linear;

  constructor(config: BertConfig) {
    super();
    const C = config.hiddenSize;
    this.dense = this.child("dense", new Linear(C, C, { std: config.initializerRange }));
  }

  /** @param sequence `[B, T, C]` @returns `[B, C]` */
  forward(sequence: Tensor): Tensor {
    const [B, , C] = sequence.shape;
    const cls = reshape(slice({ x: sequence }, { axis: 1, start: 0, end: 1 }), [B, C]);
    return tanh({ x: this.dense.forward(cls) });
  }
}

/**
 * What a BERT forward takes: uploaded `BertInputs`, a host batch (uploaded for the forward and
 * freed with it), or a batch collated by the data loader. Host batches may carry `labels`.
 */
export type BertBatch =
  | BertInputs
  | (HostBatch & { labels?: Int32Array | Float32Array })
  | Batch;

/**
 * Uploads `batch` unless it already is on the GPU, and finds its labels: `batch.labels`, or the
 * collated batch's per-task labels put back in row order.
 */
export function toBertInputs(
  gpu: Gpu,
  batch: BertBatch,
): { inputs: BertInputs; labels?: Int32Array | Float32Array } {
  if ("maskBias" in batch) return { inputs: batch };
  if ("batchSize" in batch) return { inputs: uploadBatch(gpu, batch), labels: batch.labels };
  return { inputs: uploadCollated(gpu, batch), labels: rowLabels(batch) };
}

/** A collated batch's labels in row order, when every row has one of a single dtype. */
function rowLabels(batch: Batch): Int32Array | Float32Array | undefined {
  const slices = batch.tasks;
  if (slices.length === 0 || slices.some((t) => t.labels === null)) return undefined;
  const float = slices[0].labels instanceof Float32Array;
  if (slices.some((t) => (t.labels instanceof Float32Array) !== float)) return undefined;
  const out = float ? new Float32Array(batch.size) : new Int32Array(batch.size);
  for (const t of slices) t.rows.forEach((row, i) => out[row] = t.labels![i]);
  return out;
}

/** Outputs of a BERT forward. */
export interface BertOutput {
  /** `[B, T, C]`. */
  sequence: Tensor;
  /** `[B, C]`. */
  pooled: Tensor;
}

/**
 * HF `BertModel` with plain encoder layers: embeddings, `numHiddenLayers` post-norm encoder
 * layers and the tanh pooler on [CLS], keyed as transformers keys them.
 *
 * @example Load a checkpoint and embed a batch
 * ```ts ignore
 * const gpu = await requestGpu();
 * const { model: bert } = await BertModel.fromPretrained(gpu, "models/bert-base-uncased");
 * const tokenizer = await BertTokenizer.fromFolder("models/bert-base-uncased");
 * const e = tokenizer.encode("Hello world!", undefined, { maxLength: 8, padToMaxLength: true });
 * const { pooled } = await noGrad(() =>
 *   bert.forward({
 *     inputIds: Int32Array.from(e.inputIds),
 *     tokenTypeIds: Int32Array.from(e.tokenTypeIds),
 *     attentionMask: Int32Array.from(e.attentionMask),
 *     batchSize: 1,
 *     seqLength: 8,
 *   })
 * );
 * console.log(pooled.shape); // [1, 768]
 * ```
 */
export class BertModel extends Module {
  /** The architecture (sizes, dropout, `layer_norm_eps`) the model was built from. */
  readonly config: BertConfig;
  /**
   * The dropout seed stream every `Dropout` of the model draws from; pass it to the `Dropout`
   * of a head built on top so that one seed fixes every mask.
   */
  readonly seeds: SeedStream;
  /**
   * Word, position and token-type embeddings with their layer norm (keys `embeddings.*`).
   *
   * @internal
   */
  readonly embeddings: BertEmbeddings;
  /**
   * The encoder layers (keys `encoder.layer.N.*`).
   *
   * @internal
   */
  readonly layers: ModuleList<BertLayer<LayerNorm>>;
  /**
   * The tanh pooler on [CLS] (keys `pooler.dense.*`); null when built with
   * `addPoolingLayer: false`.
   *
   * @internal
   */
  readonly pooler: BertPooler | null;

  /**
   * Declares the model (no GPU memory until `materialize`).
   *
   * @param config The architecture.
   * @param options `seed` of a new dropout stream (default 42), or a `seeds` stream to share;
   *   `addPoolingLayer: false` builds no pooler, as transformers' token-classification model
   *   does (then only `encode` runs).
   */
  constructor(
    config: BertConfig,
    { seed = 42, seeds, addPoolingLayer = true }: {
      seed?: number;
      seeds?: SeedStream;
      addPoolingLayer?: boolean;
    } = {},
  ) {
    super();
    this.config = config;
    this.seeds = seeds ?? new SeedStream(seed);
    this.embeddings = this.child("embeddings", new BertEmbeddings(config, this.seeds));
    const layers = Array.from(
      { length: config.numHiddenLayers },
      () => new BertLayer(config, this.seeds, { makeNorm: plainNorm }),
    );
    const encoder = this.child("encoder", new Encoder(layers));
    this.layers = encoder.layer;
    this.pooler = addPoolingLayer ? this.child("pooler", new BertPooler(config)) : null;
  }

  /**
   * Builds a `BertModel` from a Hugging Face checkpoint: a local folder or a hub id in the HF
   * cache (it never downloads; `resolveModel(id, { download: true })` does). Keys load with or
   * without the `bert.` prefix; a missing pooler (token-classification checkpoints) keeps its
   * initialisation, and task heads are reported as unused. The model comes back in eval mode,
   * as transformers returns it; `origin` says which folder the weights came from and how it was
   * found (`"local"` or `"cache"`).
   *
   * @throws {CheckpointError} on missing or mis-shaped keys (naming `config.json`, whose sizes
   *   gave the expected shapes); {HubError} when neither a folder nor cached
   */
  static async fromPretrained(
    gpu: Gpu,
    nameOrPath: string,
    options: { seed?: number; resolve?: LocateOptions } = {},
  ): Promise<{ model: BertModel; report: LoadReport; origin: ResolvedModel }> {
    const origin = await locateModel(nameOrPath, options.resolve);
    const { folder } = origin;
    const configFile = `${folder}/config.json`;
    const config = await readBertConfig(configFile);
    const model = new BertModel(config, { seed: options.seed }).materialize(gpu, options.seed);
    const report = await loadFolderWeights(model, folder, {
      optionalPrefix: "bert.",
      allowMissing: [/^pooler\./],
    }, configFile);
    return { model: model.eval(), report, origin };
  }

  /**
   * The last hidden states and the pooled [CLS] vector of a batch. Outside any scope, the
   * intermediates are freed as soon as nothing needs them (see `forwardScope`).
   *
   * @param batch the batch
   * @param options `clsOnly`: the last layer computes the [CLS] position only, and `sequence`
   *   is `[B, 1, C]` (docs/model.md §8.8); for callers that read `pooled` alone
   */
  forward(batch: BertBatch, { clsOnly = false }: { clsOnly?: boolean } = {}): BertOutput {
    const pooler = this.#pooler();
    const gpu = this.embeddings.wordEmbeddings.weight.value.gpu;
    return forwardScope(gpu, () => {
      const sequence = this.#encode(toBertInputs(gpu, batch).inputs, clsOnly);
      return { sequence, pooled: pooler.forward(sequence) };
    });
  }

  /**
   * The pooled [CLS] vector `[B, C]` alone: what `forward(batch).pooled` is, computed without
   * the last layer's other positions, which nothing reads (docs/model.md §8.8). Dropout masks
   * of that layer are drawn for the positions it computes, so in training mode its numbers are
   * another draw than `forward`'s, as two forwards are.
   */
  pool(batch: BertBatch): Tensor {
    return this.forward(batch, { clsOnly: true }).pooled;
  }

  /** The last hidden states `[B, T, C]` of a batch, without the pooler. */
  encode(batch: BertBatch): Tensor {
    const gpu = this.embeddings.wordEmbeddings.weight.value.gpu;
    return forwardScope(gpu, () => this.#encode(toBertInputs(gpu, batch).inputs));
  }

  #pooler(): BertPooler {
    if (!this.pooler) {
      throw new TypeError(
        "Cannot pool [CLS]: this BertModel was built without a pooler (addPoolingLayer: false); " +
          "call encode() for the hidden states",
      );
    }
    return this.pooler;
  }

  /** The encoder; with `clsOnly` the last layer computes position 0 only (`[B, 1, C]`). */
  #encode(inputs: BertInputs, clsOnly = false): Tensor {
    let h = this.embeddings.forward(inputs);
    const layers = this.layers.items;
    layers.forEach((layer, i) => {
      h = layer.forward(h, inputs.maskBias, undefined, clsOnly && i === layers.length - 1);
    });
    return h;
  }

  /** Writes `model.safetensors` and `config.json` into `dir`, as transformers lays them out. */
  async savePretrained(dir: string): Promise<void> {
    await saveModelFolder(dir, this, {
      ...bertConfigToJson(this.config),
      architectures: ["BertModel"],
    });
  }
}

/** HF `BertEncoder`: key `layer`. */
export class Encoder<M extends Module> extends Module {
  readonly layer: ModuleList<M>;

  constructor(layers: M[]) {
    super();
    this.layer = this.child("layer", new ModuleList(layers));
  }
}
