/**
 * The basic layers, each keyed as PyTorch keys it: `Linear` (`weight` `[out, in]`, `bias`),
 * `LayerNorm` (`weight`, `bias`), `Embedding` (`weight`), `Dropout` (no parameters) and
 * `ModuleList` (children keyed `0`, `1`, …).
 *
 * @module
 */

import type { Tensor } from "../autograd/tensor.ts";
import { dropout } from "../ops/dropout.ts";
import { embedding } from "../ops/embedding.ts";
import { layerNorm } from "../ops/layer_norm.ts";
import { linear } from "../ops/linear.ts";
import { Module, type Parameter } from "./module.ts";
import type { SeedStream } from "./seeds.ts";

/** BERT's initializer range: weights start as N(0, 0.02²). */
export const INIT_STD = 0.02;

/**
 * `y = x Wᵀ + b`, PyTorch `nn.Linear`: `weight` `[out, in]` starts N(0, std²) and `bias`
 * `[out]` zeros.
 *
 * @example A classification head on pooled features
 * ```ts ignore
 * const head = new Linear(768, 2).materialize(gpu, 42);
 * const logits = head.forward(pooled); // [B, 768] → [B, 2]
 * ```
 */
export class Linear extends Module {
  /** `[out, in]`, key `weight`. */
  readonly weight: Parameter;
  /** `[out]`, key `bias`; null when made with `bias: false`. */
  readonly bias: Parameter | null;

  /**
   * Declares the layer (no GPU memory until `materialize`).
   *
   * @param inFeatures Size of the input's last axis.
   * @param outFeatures Size of the output's last axis.
   * @param options `bias` (default true) and the weight's init `std` (default 0.02, BERT's
   * `initializer_range`).
   */
  constructor(inFeatures: number, outFeatures: number, { bias = true, std = INIT_STD } = {}) {
    super();
    this.weight = this.param("weight", [outFeatures, inFeatures], { kind: "normal", std });
    this.bias = bias ? this.param("bias", [outFeatures], { kind: "zeros" }) : null;
  }

  /**
   * Applies the layer to the last axis.
   *
   * @param x `[..., in]`
   * @returns `[..., out]`
   */
  forward(x: Tensor): Tensor {
    return linear({
      x,
      weight: this.weight.value,
      ...(this.bias ? { bias: this.bias.value } : {}),
    });
  }
}

/**
 * PyTorch `nn.LayerNorm` over the last axis, gain 1 and bias 0 at init.
 *
 * @example
 * ```ts ignore
 * const norm = new LayerNorm(768, 1e-12).materialize(gpu);
 * const y = norm.forward(hidden); // [B, T, 768]
 * ```
 */
export class LayerNorm extends Module {
  /** The gain `[C]`, key `weight` (ones at init). */
  readonly weight: Parameter;
  /** `[C]`, key `bias` (zeros at init). */
  readonly bias: Parameter;
  /** Added to the variance before the square root (BERT's `layer_norm_eps` is 1e-12). */
  readonly eps: number;

  /**
   * Declares the layer.
   *
   * @param size C, the length of the normalised axis.
   * @param eps Added to the variance before the square root.
   */
  constructor(size: number, eps: number) {
    super();
    this.weight = this.param("weight", [size], { kind: "ones" });
    this.bias = this.param("bias", [size], { kind: "zeros" });
    this.eps = eps;
  }

  /**
   * Normalises each row of the last axis to mean 0 and variance 1, then scales and shifts.
   *
   * @param x `[..., C]`
   * @returns `[..., C]`
   */
  forward(x: Tensor): Tensor {
    return layerNorm({ x, gain: this.weight.value, bias: this.bias.value }, { eps: this.eps });
  }
}

/**
 * A lookup table `[V, C]`, PyTorch `nn.Embedding`; the `paddingIdx` row gets no gradient.
 *
 * @example
 * ```ts ignore
 * const emb = new Embedding(30522, 128, { paddingIdx: 0 }).materialize(gpu);
 * const ids = fromArray(gpu, [101, 7592, 102], [1, 3], { dtype: "i32" });
 * const vectors = emb.forward(ids); // [1, 3, 128]
 * ```
 */
export class Embedding extends Module {
  /** The table `[V, C]`, key `weight`, N(0, std²) at init. */
  readonly weight: Parameter;
  /** The row that gets no gradient (the `[PAD]` id), or undefined. */
  readonly paddingIdx: number | undefined;

  /**
   * Declares the table.
   *
   * @param count V, the number of rows (vocabulary size).
   * @param size C, the length of each row.
   * @param options The init `std` (default 0.02) and `paddingIdx`.
   */
  constructor(
    count: number,
    size: number,
    { std = INIT_STD, paddingIdx }: { std?: number; paddingIdx?: number } = {},
  ) {
    super();
    this.weight = this.param("weight", [count, size], { kind: "normal", std });
    this.paddingIdx = paddingIdx;
  }

  /**
   * Looks up a row per id.
   *
   * @param ids i32 `[...]`, each in [0, V)
   * @returns `[..., C]`
   */
  forward(ids: Tensor): Tensor {
    return embedding(
      { weight: this.weight.value },
      this.paddingIdx === undefined ? { ids } : { ids, paddingIdx: this.paddingIdx },
    );
  }
}

/**
 * Inverted dropout with seeds drawn from the model's stream; identity in eval mode.
 *
 * @example Dropout in a head on top of BERT, seeded by BERT's stream
 * ```ts ignore
 * const dropout = new Dropout(0.1, bert.seeds);
 * const logits = head.forward(dropout.forward(pooled));
 * ```
 */
export class Dropout extends Module {
  /** Probability of zeroing an element. */
  readonly p: number;
  readonly #seeds: SeedStream;

  /**
   * Declares the layer.
   *
   * @param p Probability of zeroing an element, in [0, 1].
   * @param seeds Where each call's mask seed comes from; pass the model's stream (e.g.
   * `bert.seeds`) so that one run seed fixes every mask.
   */
  constructor(p: number, seeds: SeedStream) {
    super();
    this.p = p;
    this.#seeds = seeds;
  }

  /**
   * In training mode, zeroes each element with probability `p` and scales the rest by
   * 1/(1 − p), with a fresh seed per call; in eval mode (or `p` = 0) returns `x` itself.
   */
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout({ x }, { p: this.p, seed: this.#seeds.next() });
  }
}

/**
 * A list of modules keyed `0`, `1`, … (PyTorch `nn.ModuleList`).
 *
 * @example Two linear layers whose keys are `0.weight`, `0.bias`, `1.weight`, `1.bias`
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear, ModuleList } from "./layers.ts";
 * const layers = new ModuleList([new Linear(4, 8), new Linear(8, 2)]);
 * assert.deepEqual(layers.namedParameters().map(([k]) => k), ["0.weight", "0.bias", "1.weight", "1.bias"]);
 * ```
 */
export class ModuleList<M extends Module> extends Module {
  /** The modules, in order. */
  readonly items: M[];

  /** Registers `items` as children `0`, `1`, …. */
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.child(String(i), m));
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** Iterates over the modules in order. */
  [Symbol.iterator](): Iterator<M> {
    return this.items[Symbol.iterator]();
  }
}
