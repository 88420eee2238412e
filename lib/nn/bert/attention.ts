/**
 * BERT self-attention (HF `BertSelfAttention` + `BertSelfOutput`). Keys: `self.query`,
 * `self.key`, `self.value`, `output.dense`, `output.LayerNorm`.
 *
 * Logits are QKᵀ/√HS, plus an optional bias `[B, T, T]` shared by every head (CA-MTL's
 * conditional attention), plus the padding bias; then softmax, dropout and the weighted sum.
 *
 * With `clsOnly`, only the first position ([CLS]) queries: keys and values still come from every
 * position, but the layer's outputs are `[B, 1, C]`. A model whose only reader is the pooler runs
 * its last layer this way (docs/model.md §8.8): the other positions' outputs would never be read.
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import type { BertConfig } from "../../io/config.ts";
import { attendsInPlace } from "../../gpu/kernel_choice.ts";
import { attentionContext, attentionScores } from "../../ops/attention.ts";
import { add } from "../../ops/elementwise.ts";
import { mergeHeads, splitHeads } from "../../ops/heads.ts";
import { matmul } from "../../ops/matmul.ts";
import { slice } from "../../ops/slice.ts";
import { softmax } from "../../ops/softmax.ts";
import { Dropout, Linear } from "../layers.ts";
import { Module } from "../module.ts";
import type { SeedStream } from "../seeds.ts";
import type { TaskCondition } from "../task_condition.ts";

/** HF `BertSelfAttention`: the context vectors `[B, T, C]` before the output projection. */
export class BertSelfAttention extends Module {
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly dropout: Dropout;
  readonly heads: number;

  constructor(config: BertConfig, seeds: SeedStream) {
    super();
    const C = config.hiddenSize, std = config.initializerRange;
    if (C % config.numAttentionHeads !== 0) {
      throw new RangeError(
        `Cannot build attention: hidden size ${C} is not a multiple of ${config.numAttentionHeads} heads`,
      );
    }
    this.heads = config.numAttentionHeads;
    this.query = this.child("query", new Linear(C, C, { std }));
    this.key = this.child("key", new Linear(C, C, { std }));
    this.value = this.child("value", new Linear(C, C, { std }));
    this.dropout = this.child("dropout", new Dropout(config.attentionProbsDropoutProb, seeds));
  }

  /**
   * An extra bias `[B, T, T]` added to every head's logits before the padding bias; none in
   * BERT. CA-MTL's conditional attention overrides this.
   */
  attentionBias(_condition: TaskCondition | undefined, _size: number): Tensor | undefined {
    return undefined;
  }

  /**
   * @param h `[B, T, C]` @param maskBias `[B, T]` additive
   * @param condition passed to `attentionBias`
   * @param clsOnly only position 0 queries
   * @returns `[B, T, C]`, or `[B, 1, C]` with `clsOnly`
   */
  forward(h: Tensor, maskBias: Tensor, condition?: TaskCondition, clsOnly = false): Tensor {
    const fullBias = this.attentionBias(condition, h.shape[1]);
    const bias = fullBias && clsOnly ? firstPosition(fullBias) : fullBias;
    const heads = this.heads;
    const hs = h.shape[2] / heads;
    if (!clsOnly && attendsInPlace(h.shape[1], hs)) {
      // Heads read in place from the linear layers' [B, T, C] outputs: no head copies.
      const scores = attentionScores(
        { q: this.query.forward(h), k: this.key.forward(h) },
        { heads, scale: 1 / Math.sqrt(hs) },
      );
      const probs = softmax(bias ? { x: scores, bias } : { x: scores }, { mask: maskBias });
      return attentionContext({ probs: this.dropout.forward(probs), v: this.value.forward(h) }, {
        heads,
      });
    }
    const hq = clsOnly ? firstPosition(h) : h;
    const q = splitHeads({ x: this.query.forward(hq) }, { heads }); // [B, NH, Tq, HS]
    const k = splitHeads({ x: this.key.forward(h) }, { heads });
    const v = splitHeads({ x: this.value.forward(h) }, { heads });
    const scores = matmul({ a: q, b: k }, { transB: true, alpha: 1 / Math.sqrt(hs) });
    const probs = softmax(bias ? { x: scores, bias } : { x: scores }, { mask: maskBias });
    const context = matmul({ a: this.dropout.forward(probs), b: v }); // [B, NH, Tq, HS]
    return mergeHeads({ x: context });
  }
}

/** `x[:, 0:1]`: the [CLS] position of `[B, T, ...]`, keeping the axis. */
export function firstPosition(x: Tensor): Tensor {
  return slice({ x }, { axis: 1, start: 0, end: 1 });
}

/** A normalisation a residual block ends with: plain LayerNorm, or CA-MTL's conditional one. */
export interface Norm extends Module {
  forward(x: Tensor, condition?: TaskCondition): Tensor;
}

/**
 * A sub-block's tail, HF `BertSelfOutput`/`BertOutput`: norm(dropout(dense(x)) + residual).
 * Keys: `dense`, `LayerNorm`.
 */
export class ResidualOutput<N extends Norm = Norm> extends Module {
  readonly dense: Linear;
  readonly layerNorm: N;
  readonly dropout: Dropout;

  constructor(
    sizes: { inSize: number; outSize: number },
    config: BertConfig,
    seeds: SeedStream,
    norm: N,
  ) {
    super();
    const std = config.initializerRange;
    this.dense = this.child("dense", new Linear(sizes.inSize, sizes.outSize, { std }));
    this.layerNorm = this.child("LayerNorm", norm);
    this.dropout = this.child("dropout", new Dropout(config.hiddenDropoutProb, seeds));
  }

  /** @param x `[B, T, in]` @param residual `[B, T, out]` */
  forward(x: Tensor, residual: Tensor, condition?: TaskCondition): Tensor {
    const sum = add({ a: this.dropout.forward(this.dense.forward(x)), b: residual });
    return this.layerNorm.forward(sum, condition);
  }
}
