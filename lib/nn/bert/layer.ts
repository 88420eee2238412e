/**
 * One BERT encoder layer (HF `BertLayer`): attention sub-block, then the GELU feed-forward
 * sub-block, each with a residual and a norm. Keys: `attention.self.*`,
 * `attention.output.{dense,LayerNorm}`, `intermediate.dense`, `output.{dense,LayerNorm}`.
 *
 * The norms are pluggable so that CA-MTL can put its conditional layer norm in their place
 * under the same keys.
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import type { BertConfig } from "../../io/config.ts";
import { gelu } from "../../ops/gelu.ts";
import { LayerNorm, Linear } from "../layers.ts";
import { Module } from "../module.ts";
import type { SeedStream } from "../seeds.ts";
import type { TaskCondition } from "../task_condition.ts";
import { BertSelfAttention, firstPosition, type Norm, ResidualOutput } from "./attention.ts";

/** Builds a layer's self-attention: plain BERT, or CA-MTL's conditional attention. */
export type SelfAttentionFactory = (config: BertConfig, seeds: SeedStream) => BertSelfAttention;

/** Plain BERT self-attention. */
export const plainSelfAttention: SelfAttentionFactory = (config, seeds) =>
  new BertSelfAttention(config, seeds);

/** HF `BertAttention`: keys `self` and `output`. */
export class BertAttention<N extends Norm = Norm> extends Module {
  readonly self: BertSelfAttention;
  readonly output: ResidualOutput<N>;

  constructor(
    config: BertConfig,
    seeds: SeedStream,
    parts: { norm: N; selfAttention?: SelfAttentionFactory },
  ) {
    super();
    const C = config.hiddenSize;
    const makeSelf = parts.selfAttention ?? plainSelfAttention;
    this.self = this.child("self", makeSelf(config, seeds));
    const norm = parts.norm;
    this.output = this.child(
      "output",
      new ResidualOutput({ inSize: C, outSize: C }, config, seeds, norm),
    );
  }

  /**
   * @param h `[B, T, C]` @param condition goes to the self-attention and the norm
   * @param clsOnly only [CLS] queries: the result is `[B, 1, C]`
   */
  forward(h: Tensor, maskBias: Tensor, condition?: TaskCondition, clsOnly = false): Tensor {
    const context = this.self.forward(h, maskBias, condition, clsOnly);
    return this.output.forward(context, clsOnly ? firstPosition(h) : h, condition);
  }
}

/** HF `BertIntermediate`: `gelu(dense(x))`, key `dense`. */
export class BertIntermediate extends Module {
  readonly dense: Linear;

  constructor(config: BertConfig) {
    super();
    const std = config.initializerRange;
    this.dense = this.child(
      "dense",
      new Linear(config.hiddenSize, config.intermediateSize, { std }),
    );
  }

  forward(x: Tensor): Tensor {
    return gelu({ x: this.dense.forward(x) });
  }
}

/** Which norm each of a layer's two sub-blocks ends with. */
export type NormFactory<N extends Norm> = (config: BertConfig) => N;

/** The plain BERT norm. */
export const plainNorm: NormFactory<LayerNorm> = (config) =>
  new LayerNorm(config.hiddenSize, config.layerNormEps);

/** HF `BertLayer`. */
export class BertLayer<N extends Norm = Norm> extends Module {
  readonly attention: BertAttention<N>;
  readonly intermediate: BertIntermediate;
  readonly output: ResidualOutput<N>;

  constructor(
    config: BertConfig,
    seeds: SeedStream,
    parts: { makeNorm: NormFactory<N>; selfAttention?: SelfAttentionFactory },
  ) {
    super();
    const C = config.hiddenSize, I = config.intermediateSize;
    const makeNorm = parts.makeNorm;
    this.attention = this.child(
      "attention",
      new BertAttention(config, seeds, {
        norm: makeNorm(config),
        selfAttention: parts.selfAttention,
      }),
    );
    this.intermediate = this.child("intermediate", new BertIntermediate(config));
    this.output = this.child(
      "output",
      new ResidualOutput({ inSize: I, outSize: C }, config, seeds, makeNorm(config)),
    );
  }

  /**
   * @param h `[B, T, C]` @param maskBias `[B, T]`
   * @param condition the task condition, for conditional attention and norms
   * @param clsOnly compute the [CLS] position only (when only the pooler reads the result)
   * @returns `[B, T, C]`, or `[B, 1, C]` with `clsOnly`
   */
  forward(h: Tensor, maskBias: Tensor, condition?: TaskCondition, clsOnly = false): Tensor {
    const a = this.attention.forward(h, maskBias, condition, clsOnly);
    return this.output.forward(this.intermediate.forward(a), a, condition);
  }
}
