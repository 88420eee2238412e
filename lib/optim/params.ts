/**
 * What the optimizer-side calls (`zeroGrad`, `clipGradNorm`, `AdamW`) accept as parameters:
 * a module, its `Parameter`s, or plain tensors, as PyTorch takes `model.parameters()` or a
 * list of tensors. Also the transformers recipe's weight-decay grouping.
 *
 * @module
 */

import { Tensor } from "../autograd/tensor.ts";
import { Module, Parameter } from "../nn/module.ts";

/** A module (its trainable parameters), or `Parameter`s or tensors in any iterable. */
export type Parameters = Module | Iterable<Parameter | Tensor>;

/** One parameter and its weight decay, as `AdamW` takes it. */
export interface ParamGroup {
  /** The parameter, updated in place; its `grad` is read at each step. */
  param: Tensor;
  /** Decoupled weight decay (≥ 0); 0 turns decay off. */
  weightDecay: number;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return `an array`;
  const article = (word: string) => (/^[aeiou]/i.test(word) ? "an " : "a ") + word;
  if (typeof value === "object") return article(value.constructor?.name ?? "object");
  return `${article(typeof value)} (${String(value).slice(0, 40)})`;
}

function tensorOf(item: unknown, i: number, action: string): Tensor {
  if (item instanceof Tensor) return item;
  if (item instanceof Parameter) {
    if (!item.materialized) {
      throw new TypeError(
        `Cannot ${action}: parameter ${i} is not on a GPU yet; call materialize(gpu) on the ` +
          `model or load it with fromPretrained`,
      );
    }
    return item.value;
  }
  throw new TypeError(
    `Cannot ${action}: item ${i} is ${describe(item)}; expected a Parameter or a Tensor`,
  );
}

/**
 * The tensors behind `source`: a module's trainable parameters (frozen ones get no gradient),
 * or each `Parameter`'s tensor, or the tensors themselves.
 *
 * @param action what the caller does, for the error ("clip gradients")
 * @throws {TypeError} naming what was passed when it is none of those
 */
export function parameterTensors(source: Parameters, action: string): Tensor[] {
  if (source instanceof Module) {
    return source.parameters().filter((p) => p.trainable).map((p, i) => tensorOf(p, i, action));
  }
  if (source instanceof Tensor || source instanceof Parameter) return [tensorOf(source, 0, action)];
  if (
    source === null || typeof source !== "object" ||
    typeof (source as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(
      `Cannot ${action}: got ${describe(source)}; pass a Module, its parameters(), or tensors`,
    );
  }
  return [...source].map((item, i) => tensorOf(item, i, action));
}

/** True for the parameters transformers' recipe never decays: biases and LayerNorm gains. */
export function noDecay(name: string): boolean {
  return name.includes("bias") || name.includes("LayerNorm.weight");
}

/**
 * The transformers fine-tuning recipe's two AdamW groups, flattened: every trainable parameter
 * of `module` with `weightDecay`, except biases and LayerNorm weights, which get 0.
 *
 * @example
 * ```ts ignore
 * const optimizer = new AdamW(groupParameters(model, { weightDecay: 0.01 }), { lr: 2e-5 });
 * ```
 * @throws {RangeError} when `weightDecay` is negative or not finite
 */
export function groupParameters(
  module: Module,
  { weightDecay }: { weightDecay: number },
): ParamGroup[] {
  if (!(weightDecay >= 0) || !Number.isFinite(weightDecay)) {
    throw new RangeError(
      `Cannot group parameters: weightDecay is ${weightDecay}, expected a finite number ≥ 0`,
    );
  }
  return module.namedParameters().filter(([, p]) => p.trainable).map(([name, p]) => ({
    param: tensorOf(p, 0, `group parameter "${name}"`),
    weightDecay: noDecay(name) ? 0 : weightDecay,
  }));
}
