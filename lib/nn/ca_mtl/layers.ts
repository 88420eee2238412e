/**
 * CA-MTL's encoder stacks (docs/model.md §7.1, §7.2).
 *
 * - base: layers 0…NL/2−1 plain + CBDA, then CLN layers up to the last, whose top layer is built
 *   fresh under new keys (`new_attention`, `new_intermediate`, `new_output`, `adapter`) and whose
 *   output is `CLN₃(bottleneck(z', f) + a)` — the residual adds the attention output `a`;
 * - large: the first ⌈NL/2⌉ layers plain + CBDA, the rest with CLN, plus the chain of NL
 *   bottlenecks (`adapter_layer.N`) whose end is the sequence output.
 *
 * Both start with `task_transformation` (z' = W z + b), used by every conditional module in
 * the layers.
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import type { BertConfig } from "../../io/config.ts";
import { add } from "../../ops/elementwise.ts";
import { BertAttention, BertIntermediate, BertLayer, plainNorm } from "../bert/layer.ts";
import { firstPosition, ResidualOutput } from "../bert/attention.ts";
import { ModuleList } from "../layers.ts";
import { Linear } from "../layers.ts";
import { Module } from "../module.ts";
import type { SeedStream } from "../seeds.ts";
import { CbdaSelfAttention, ConditionalBottleneck, ConditionalLayerNorm } from "./conditional.ts";
import type { TaskCondition } from "../task_condition.ts";

function parts(config: BertConfig, maxSeqLength: number, conditionalNorm: boolean) {
  const std = config.initializerRange;
  return {
    makeNorm: conditionalNorm
      ? (c: BertConfig) => new ConditionalLayerNorm(c.hiddenSize, c.layerNormEps, std)
      : plainNorm,
    selfAttention: (c: BertConfig, s: SeedStream) => new CbdaSelfAttention(c, s, maxSeqLength),
  };
}

/** The base top layer: attention and FFN sub-blocks with CLN, then the conditional adapter. */
export class AdapterLayer extends Module {
  readonly newAttention: BertAttention<ConditionalLayerNorm>;
  readonly newIntermediate: BertIntermediate;
  readonly newOutput: ResidualOutput<ConditionalLayerNorm>;
  readonly bottleneck: ConditionalBottleneck;
  readonly condLayerNorm: ConditionalLayerNorm;

  constructor(config: BertConfig, seeds: SeedStream, maxSeqLength: number) {
    super();
    const C = config.hiddenSize, std = config.initializerRange, eps = config.layerNormEps;
    this.newAttention = this.child(
      "new_attention",
      new BertAttention(config, seeds, {
        norm: new ConditionalLayerNorm(C, eps, std),
        selfAttention: parts(config, maxSeqLength, true).selfAttention,
      }),
    );
    this.newIntermediate = this.child("new_intermediate", new BertIntermediate(config));
    this.newOutput = this.child(
      "new_output",
      new ResidualOutput(
        { inSize: config.intermediateSize, outSize: C },
        config,
        seeds,
        new ConditionalLayerNorm(C, eps, std),
      ),
    );
    const adapter = this.child("adapter", new AdapterBlock(C, eps, std));
    this.bottleneck = adapter.bottleneck;
    this.condLayerNorm = adapter.condLayerNorm;
  }

  forward(h: Tensor, maskBias: Tensor, condition: TaskCondition, clsOnly = false): Tensor {
    const a = this.newAttention.forward(h, maskBias, condition, clsOnly);
    const f = this.newOutput.forward(this.newIntermediate.forward(a), a, condition);
    const adapted = add({ a: this.bottleneck.forward(f, condition.zt), b: a });
    return this.condLayerNorm.forward(adapted, condition);
  }
}

/** Keys `adapter.bottleneck.*` and `adapter.condlayernorm.*`. */
class AdapterBlock extends Module {
  readonly bottleneck: ConditionalBottleneck;
  readonly condLayerNorm: ConditionalLayerNorm;

  constructor(hidden: number, eps: number, std: number) {
    super();
    this.bottleneck = this.child("bottleneck", new ConditionalBottleneck(hidden, std));
    this.condLayerNorm = this.child("condlayernorm", new ConditionalLayerNorm(hidden, eps, std));
  }
}

/** A layer of either stack: forward with the padding bias and the task condition. */
type CaMtlLayer = BertLayer | AdapterLayer;

/** `encoder` of CA-MTL-base: `task_transformation`, `layer.N`. */
export class CaMtlBaseEncoder extends Module {
  readonly taskTransformation: Linear;
  readonly layers: ModuleList<CaMtlLayer>;

  constructor(config: BertConfig, seeds: SeedStream, maxSeqLength: number) {
    super();
    const C = config.hiddenSize, n = config.numHiddenLayers;
    this.taskTransformation = this.child(
      "task_transformation",
      new Linear(C, C, { std: config.initializerRange }),
    );
    const plain = Math.floor(n / 2), conditional = Math.floor(n / 2) - 1;
    if (n < 2 || plain + conditional + 1 !== n) {
      throw new RangeError(
        `Cannot build CA-MTL-base: it needs an even number of layers (at least 2), got ${n}`,
      );
    }
    const layers: CaMtlLayer[] = [];
    for (let i = 0; i < plain; i++) {
      layers.push(new BertLayer(config, seeds, parts(config, maxSeqLength, false)));
    }
    for (let i = 0; i < conditional; i++) {
      layers.push(new BertLayer(config, seeds, parts(config, maxSeqLength, true)));
    }
    layers.push(new AdapterLayer(config, seeds, maxSeqLength));
    this.layers = this.child("layer", new ModuleList(layers));
  }

  /**
   * @param h aligned embeddings `[B, T, C]` @param z raw task vectors `[B, C]`
   * @param clsOnly the last layer computes [CLS] only (`[B, 1, C]` out)
   */
  forward(h: Tensor, maskBias: Tensor, z: Tensor, clsOnly = false): Tensor {
    const condition = { z, zt: this.taskTransformation.forward(z) };
    const layers = this.layers.items;
    layers.forEach((layer, i) => {
      h = layer.forward(h, maskBias, condition, clsOnly && i === layers.length - 1);
    });
    return h;
  }
}

/** `encoder` of CA-MTL-large: `task_transformation`, `layer.N`, `adapter_layer.N`. */
export class CaMtlLargeEncoder extends Module {
  readonly taskTransformation: Linear;
  readonly layers: ModuleList<BertLayer>;
  readonly adapters: ModuleList<ConditionalBottleneck>;

  constructor(config: BertConfig, seeds: SeedStream, maxSeqLength: number) {
    super();
    const C = config.hiddenSize, n = config.numHiddenLayers, std = config.initializerRange;
    this.taskTransformation = this.child("task_transformation", new Linear(C, C, { std }));
    const plain = Math.floor(n / 2) + (n % 2);
    const layers = Array.from(
      { length: n },
      (_, i) => new BertLayer(config, seeds, parts(config, maxSeqLength, i >= plain)),
    );
    this.layers = this.child("layer", new ModuleList(layers));
    this.adapters = this.child(
      "adapter_layer",
      new ModuleList(Array.from({ length: n }, () => new ConditionalBottleneck(C, std))),
    );
  }

  /**
   * The bottleneck chain f_{i+1} = bottleneck_i(h_i + f_i), f_0 = 0; returns f_L (`[B, 1, C]`,
   * [CLS] only, with `clsOnly`: the last layer and adapter then run on that position alone).
   */
  forward(h: Tensor, maskBias: Tensor, z: Tensor, clsOnly = false): Tensor {
    const condition = { z, zt: this.taskTransformation.forward(z) };
    let f: Tensor | null = null;
    const last = this.layers.items.length - 1;
    this.layers.items.forEach((layer, i) => {
      const short = clsOnly && i === last;
      h = layer.forward(h, maskBias, condition, short);
      const prev: Tensor | null = f && short ? firstPosition(f) : f;
      f = this.adapters.items[i].forward(prev ? add({ a: h, b: prev }) : h, condition.zt);
    });
    return f!;
  }
}
