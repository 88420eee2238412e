/**
 * `Module` and `Parameter`: the structure of a model, declared without touching the GPU.
 *
 * A module declares its parameters (shape and initialisation) and children under the exact
 * PyTorch key segment (`LayerNorm`, `attention.self.query`), so that `namedParameters()` yields
 * Hugging Face checkpoint keys. Counting parameters needs no GPU memory; `materialize` then
 * allocates and initialises every tensor on a device.
 *
 * @module
 */

import { fromArray, type Tensor } from "../autograd/tensor.ts";
import type { Gpu } from "../gpu/device.ts";
import { Generator } from "./random.ts";

/** How a parameter starts: N(0, std²), zeros or ones (BERT's `init_weights`). */
export type Init = { kind: "normal"; std: number } | { kind: "zeros" } | { kind: "ones" };

/** One named parameter: its shape, initialisation and, once materialised, its tensor. */
export class Parameter {
  /** The declared dimensions (frozen); a checkpoint tensor must have as many elements. */
  readonly shape: readonly number[];
  /** How `materialize` fills it. */
  readonly init: Init;
  /** False for frozen parameters: they receive no gradient. */
  #trainable = true;
  #tensor: Tensor | null = null;

  /**
   * Declares a parameter; modules call `param()` instead, which also registers it under a key.
   * Nothing is allocated until a tensor is attached.
   */
  constructor(shape: readonly number[], init: Init) {
    this.shape = Object.freeze([...shape]);
    this.init = init;
  }

  /** Number of elements. */
  get size(): number {
    return this.shape.reduce((p, d) => p * d, 1);
  }

  /** Whether the optimizer updates this parameter. */
  get trainable(): boolean {
    return this.#trainable;
  }

  set trainable(on: boolean) {
    this.#trainable = on;
    if (this.#tensor) {
      this.#tensor.requiresGrad = on;
      if (!on && this.#tensor.grad) {
        this.#tensor.grad.dispose();
        this.#tensor.grad = null;
      }
    }
  }

  /** The GPU tensor; throws before `materialize`. */
  get value(): Tensor {
    if (!this.#tensor) {
      throw new Error("Cannot read parameter: the model is not materialized on a GPU yet");
    }
    return this.#tensor;
  }

  /** True once a tensor is attached. */
  get materialized(): boolean {
    return this.#tensor !== null;
  }

  /** Attaches `tensor` (persistent, same shape), disposing any previous one. */
  attach(tensor: Tensor, name: string): void {
    if (tensor.size !== this.size) {
      throw new TypeError(
        `Cannot attach [${tensor.shape.join(", ")}] to "${name}": expected [${
          this.shape.join(", ")
        }]`,
      );
    }
    if (this.#tensor && this.#tensor !== tensor) this.dispose();
    tensor.requiresGrad = this.#trainable;
    tensor.name = name;
    this.#tensor = tensor;
  }

  /** Host values of the initialisation, drawn from `rng`. */
  initialValues(rng: Generator): Float32Array {
    const out = new Float32Array(this.size);
    if (this.init.kind === "ones") out.fill(1);
    else if (this.init.kind === "normal") rng.fillNormal(out, this.init.std);
    return out;
  }

  /** Frees the tensor and its gradient. */
  dispose(): void {
    this.#tensor?.grad?.dispose();
    this.#tensor?.dispose();
    this.#tensor = null;
  }
}

/**
 * A node of the model tree, PyTorch's `nn.Module`. Subclasses declare parameters and children
 * in their constructor, under the key segments of the checkpoints they load; declaring needs no
 * GPU, `materialize` allocates. Modules start in training mode; `eval()` turns dropout off.
 *
 * @example Count the parameters of a small stack without a GPU
 * ```ts
 * import assert from "node:assert/strict";
 * import { Linear, ModuleList } from "./layers.ts";
 * const mlp = new ModuleList([new Linear(4, 8), new Linear(8, 2)]);
 * assert.deepEqual(mlp.countParameters(), { total: 58, trainable: 58, frozen: 0 });
 * mlp.items[0].weight.trainable = false;
 * assert.equal(mlp.countParameters().frozen, 32);
 * assert.equal(mlp.eval().training, false);
 * ```
 */
export class Module {
  readonly #params = new Map<string, Parameter>();
  readonly #children = new Map<string, Module>();
  #training = true;

  /** Declares a parameter under key segment `key`. */
  protected param(key: string, shape: readonly number[], init: Init): Parameter {
    const p = new Parameter(shape, init);
    this.#params.set(key, p);
    return p;
  }

  /** Declares a child module under key segment `key` (may contain dots, e.g. `attention.self`). */
  protected child<M extends Module>(key: string, module: M): M {
    this.#children.set(key, module);
    return module;
  }

  /** Every parameter with its full checkpoint key, in declaration order. */
  namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    for (const [k, p] of this.#params) out.push([prefix + k, p]);
    for (const [k, m] of this.#children) out.push(...m.namedParameters(`${prefix}${k}.`));
    return out;
  }

  /** Parameters in declaration order. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Total, trainable and frozen element counts, read from the declared structure. */
  countParameters(): { total: number; trainable: number; frozen: number } {
    let total = 0, trainable = 0;
    for (const p of this.parameters()) {
      total += p.size;
      if (p.trainable) trainable += p.size;
    }
    return { total, trainable, frozen: total - trainable };
  }

  /** Whether dropout is active (PyTorch's `module.training`). */
  get training(): boolean {
    return this.#training;
  }

  /** Sets training mode on this module and every descendant. */
  train(on = true): this {
    this.#training = on;
    for (const m of this.#children.values()) m.train(on);
    return this;
  }

  /** Same as `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /**
   * Allocates and initialises every parameter on `gpu` from a seeded generator, in
   * declaration order (so the same seed gives the same weights).
   */
  materialize(gpu: Gpu, seed = 42): this {
    const rng = new Generator(seed);
    for (const [name, p] of this.namedParameters()) {
      p.attach(fromArray(gpu, p.initialValues(rng), p.shape, { persistent: true }), name);
    }
    return this;
  }

  /** Frees every parameter's GPU memory. */
  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}
