/**
 * HF `BertModel`: embeddings, a stack of encoder layers and the tanh pooler on [CLS]. Keys:
 * `embeddings.*`, `encoder.layer.N.*`, `pooler.dense.*` (the enclosing model adds `bert.`).
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import { type BertConfig, readBertConfig } from "../../io/config.ts";
import { loadStateDict as readWeights } from "../../io/checkpoint.ts";
import { resolveModel, type ResolveOptions } from "../../io/hub.ts";
import type { Gpu } from "../../gpu/device.ts";
import { loadModelWeights, type LoadReport } from "../state_dict.ts";
import { blameConfig } from "../matching_parts.ts";
import { reshape } from "../../ops/reshape.ts";
import { slice } from "../../ops/slice.ts";
import { tanh } from "../../ops/tanh.ts";
import { Linear } from "../layers.ts";
import { Module } from "../module.ts";
import { SeedStream } from "../seeds.ts";
import { BertEmbeddings } from "./embeddings.ts";
import type { BertInputs } from "./inputs.ts";
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

  /** @param sequence `[B, S, C]` @returns `[B, C]` */
  forward(sequence: Tensor): Tensor {
    const [B, , C] = sequence.shape;
    const cls = reshape(slice({ x: sequence }, { axis: 1, start: 0, end: 1 }), [B, C]);
    return tanh({ x: this.dense.forward(cls) });
  }
}

/** A list of modules keyed `0`, `1`, … (PyTorch `nn.ModuleList`). */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];

  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }
}

/** Outputs of a BERT forward. */
export interface BertOutput {
  /** `[B, S, C]`. */
  sequence: Tensor;
  /** `[B, C]`. */
  pooled: Tensor;
}

/** HF `BertModel` with plain encoder layers. */
export class BertModel extends Module {
  readonly config: BertConfig;
  readonly seeds: SeedStream;
  readonly embeddings: BertEmbeddings;
  readonly layers: ModuleList<BertLayer<LayerNorm>>;
  readonly pooler: BertPooler;

  constructor(
    config: BertConfig,
    { seed = 42, seeds }: { seed?: number; seeds?: SeedStream } = {},
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
    this.pooler = this.child("pooler", new BertPooler(config));
  }

  /**
   * Builds a `BertModel` from a Hugging Face checkpoint: a local folder, the HF cache, or a
   * download (see `resolveModel`). Keys load with or without the `bert.` prefix; a missing
   * pooler (token-classification checkpoints) keeps its initialisation, and task heads are
   * reported as unused.
   *
   * @throws {CheckpointError} on missing or mis-shaped keys (naming `config.json`, whose sizes
   *   gave the expected shapes); {HubError} when not found
   */
  static async fromPretrained(
    gpu: Gpu,
    nameOrPath: string,
    options: { seed?: number; resolve?: ResolveOptions } = {},
  ): Promise<{ model: BertModel; report: LoadReport }> {
    const { folder } = await resolveModel(nameOrPath, options.resolve);
    const configFile = `${folder}/config.json`;
    const config = await readBertConfig(configFile);
    const model = new BertModel(config, { seed: options.seed }).materialize(gpu, options.seed);
    try {
      const { stateDict, file } = await readWeights(folder);
      const report = loadModelWeights(model, stateDict, {
        file,
        optionalPrefix: "bert.",
        allowMissing: [/^pooler\./],
      });
      return { model, report };
    } catch (e) {
      model.dispose();
      throw blameConfig(e, configFile);
    }
  }

  forward(inputs: BertInputs): BertOutput {
    let h = this.embeddings.forward(inputs);
    for (const layer of this.layers.items) h = layer.forward(h, inputs.maskBias);
    return { sequence: h, pooled: this.pooler.forward(h) };
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
