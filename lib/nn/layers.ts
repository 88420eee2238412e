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

/** `y = x Wᵀ + b`, PyTorch `nn.Linear`. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, { bias = true, std = INIT_STD } = {}) {
    super();
    this.weight = this.param("weight", [outFeatures, inFeatures], { kind: "normal", std });
    this.bias = bias ? this.param("bias", [outFeatures], { kind: "zeros" }) : null;
  }

  /** @param x `[..., in]` @returns `[..., out]` */
  forward(x: Tensor): Tensor {
    return linear({
      x,
      weight: this.weight.value,
      ...(this.bias ? { bias: this.bias.value } : {}),
    });
  }
}

/** PyTorch `nn.LayerNorm` over the last axis, gain 1 and bias 0 at init. */
export class LayerNorm extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;
  readonly eps: number;

  constructor(size: number, eps: number) {
    super();
    this.weight = this.param("weight", [size], { kind: "ones" });
    this.bias = this.param("bias", [size], { kind: "zeros" });
    this.eps = eps;
  }

  /** @param x `[..., C]` */
  forward(x: Tensor): Tensor {
    return layerNorm({ x, gain: this.weight.value, bias: this.bias.value }, { eps: this.eps });
  }
}

/** A lookup table `[V, C]`, PyTorch `nn.Embedding`; the `paddingIdx` row gets no gradient. */
export class Embedding extends Module {
  readonly weight: Parameter;
  readonly paddingIdx: number | undefined;

  constructor(
    count: number,
    size: number,
    { std = INIT_STD, paddingIdx }: { std?: number; paddingIdx?: number } = {},
  ) {
    super();
    this.weight = this.param("weight", [count, size], { kind: "normal", std });
    this.paddingIdx = paddingIdx;
  }

  /** @param ids i32 `[...]` @returns `[..., C]` */
  forward(ids: Tensor): Tensor {
    return embedding(
      { weight: this.weight.value },
      this.paddingIdx === undefined ? { ids } : { ids, paddingIdx: this.paddingIdx },
    );
  }
}

/** Inverted dropout with seeds drawn from the model's stream; identity in eval mode. */
export class Dropout extends Module {
  readonly p: number;
  readonly #seeds: SeedStream;

  constructor(p: number, seeds: SeedStream) {
    super();
    this.p = p;
    this.#seeds = seeds;
  }

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
