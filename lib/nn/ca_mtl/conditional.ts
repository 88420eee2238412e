/**
 * CA-MTL's task-conditioned modules (docs/model.md §2 to §6), keyed as the released PyTorch code
 * keys them:
 *
 * - `FilmGenerator` (key `gb_weights`): the hypernetwork `[γ | β] = W z + b`, bias zero.
 * - `ConditionalLayerNorm` (`weight`, `ln_weight_modulation.gb_weights.*`, `bias`): layer norm
 *   whose gain is `(1 + γ(z')) ⊙ g + β(z')`, per example; the shift is the plain bias.
 * - `ConditionalBottleneck` (`emb_transf`, `hidden_modulation.gb_weights`, `down_proj_layer`,
 *   `up_proj_layer`): FiLM, then C → D → C (D = ⌊C/3⌋), with no activation and no residual inside.
 * - `CbdaSelfAttention`: BERT self-attention plus `cond_block_diag_attn.gb_weights` and the
 *   block matrix `random_weight_matrix` A `[L, c]` (zeros at init), whose modulated
 *   block-diagonal expansion is added to every head's logits.
 *
 * Conditioning is computed per example on the GPU: every row of a task carries that task's
 * vector, which is the same result the released code gets with its per-task loops.
 *
 * @module
 */

import type { Tensor } from "../../autograd/tensor.ts";
import type { BertConfig } from "../../io/config.ts";
import { blockDiag } from "../../ops/block_diag.ts";
import { film } from "../../ops/film.ts";
import { layerNorm } from "../../ops/layer_norm.ts";
import { BertSelfAttention } from "../bert/attention.ts";
import { Linear } from "../layers.ts";
import { Module, type Parameter } from "../module.ts";
import type { SeedStream } from "../seeds.ts";
import type { TaskCondition } from "../task_condition.ts";

/** The condition, or a one-line error when a conditioned module is run without one. */
function conditionOf(condition: TaskCondition | undefined, where: string): TaskCondition {
  if (!condition?.zt) throw new TypeError(`Cannot run "${where}": it needs a task condition`);
  return condition;
}

/** FiLM generator: `gb_weights`, a linear map from the condition to `[γ | β]`. */
export class FilmGenerator extends Module {
  readonly gbWeights: Linear;

  constructor(conditionSize: number, targetSize: number, std: number) {
    super();
    this.gbWeights = this.child("gb_weights", new Linear(conditionSize, 2 * targetSize, { std }));
  }

  /** @param z `[B, cond]` @returns `[B, 2·target]` */
  generate(z: Tensor): Tensor {
    return this.gbWeights.forward(z);
  }

  /** `(1 + γ(z)) ⊙ x + β(z)`; x `[B, R, D]` or shared `[R, D]`/`[D]`. */
  forward(x: Tensor, z: Tensor): Tensor {
    return film({ x, gb: this.generate(z) });
  }
}

/** Conditional layer norm: only the gain is conditioned (docs/model.md §5). */
export class ConditionalLayerNorm extends Module {
  readonly weight: Parameter;
  readonly lnWeightModulation: FilmGenerator;
  readonly bias: Parameter;
  readonly eps: number;

  constructor(size: number, eps: number, std: number) {
    super();
    this.weight = this.param("weight", [size], { kind: "ones" });
    this.lnWeightModulation = this.child(
      "ln_weight_modulation",
      new FilmGenerator(size, size, std),
    );
    this.bias = this.param("bias", [size], { kind: "zeros" });
    this.eps = eps;
  }

  /** @param x `[B, T, C]` @param condition its `zt` `[B, C]` conditions the gain */
  forward(x: Tensor, condition?: TaskCondition): Tensor {
    const { zt } = conditionOf(condition, "conditional layer norm");
    const gain = this.lnWeightModulation.forward(this.weight.value, zt); // [B, C]
    return layerNorm({ x, gain, bias: this.bias.value }, { eps: this.eps });
  }
}

/** Conditional bottleneck adapter (docs/model.md §6: linear down/up, no activation). */
export class ConditionalBottleneck extends Module {
  readonly embTransf: Linear;
  readonly hiddenModulation: FilmGenerator;
  readonly downProj: Linear;
  readonly upProj: Linear;

  constructor(hidden: number, std: number) {
    super();
    this.embTransf = this.child("emb_transf", new Linear(hidden, hidden, { std }));
    this.hiddenModulation = this.child("hidden_modulation", new FilmGenerator(hidden, hidden, std));
    const width = Math.floor(hidden / 3);
    this.downProj = this.child("down_proj_layer", new Linear(hidden, width, { std }));
    this.upProj = this.child("up_proj_layer", new Linear(width, hidden, { std }));
  }

  /** @param x `[B, T, C]` @param zt `[B, C]` @returns `[B, T, C]` */
  forward(x: Tensor, zt: Tensor): Tensor {
    const u = this.embTransf.forward(zt);
    return this.upProj.forward(this.downProj.forward(this.hiddenModulation.forward(x, u)));
  }
}

/**
 * The block geometry of conditional attention: N = C div L blocks of c = ⌈L/N⌉ rows.
 *
 * @throws {RangeError} when C is not a multiple of L (docs/model.md §4.3), naming the lengths
 *   that work.
 */
export function blockGeometry(
  hidden: number,
  maxSeqLength: number,
): { blocks: number; width: number } {
  if (!(maxSeqLength >= 1) || hidden % maxSeqLength !== 0) {
    const ok: number[] = [];
    for (let l = 8; l <= Math.min(hidden, 512); l++) if (hidden % l === 0) ok.push(l);
    throw new RangeError(
      `Cannot build conditional attention: hidden size ${hidden} is not a multiple of ` +
        `max_seq_length ${maxSeqLength}; lengths that work: ${ok.join(", ")}`,
    );
  }
  const blocks = hidden / maxSeqLength;
  return { blocks, width: Math.ceil(maxSeqLength / blocks) };
}

/** Self-attention with CA-MTL's conditional block-diagonal attention bias (CBDA). */
export class CbdaSelfAttention extends BertSelfAttention {
  readonly condBlockDiagAttn: FilmGenerator;
  readonly randomWeightMatrix: Parameter;

  constructor(config: BertConfig, seeds: SeedStream, maxSeqLength: number) {
    super(config, seeds);
    const { width } = blockGeometry(config.hiddenSize, maxSeqLength);
    this.condBlockDiagAttn = this.child(
      "cond_block_diag_attn",
      new FilmGenerator(config.hiddenSize, width, config.initializerRange),
    );
    this.randomWeightMatrix = this.param("random_weight_matrix", [maxSeqLength, width], {
      kind: "zeros",
    });
  }

  /** M(z') `[B, T, T]`: the modulated A, block-diagonalised and cropped to the batch length. */
  override attentionBias(condition: TaskCondition | undefined, size: number): Tensor {
    const { zt } = conditionOf(condition, "conditional attention");
    const L = this.randomWeightMatrix.shape[0];
    if (size > L) {
      throw new RangeError(
        `Cannot run conditional attention: the batch is ${size} tokens long, max_seq_length is ${L}`,
      );
    }
    const modulated = this.condBlockDiagAttn.forward(this.randomWeightMatrix.value, zt); // [B, L, c]
    return blockDiag({ x: modulated }, { size });
  }
}
