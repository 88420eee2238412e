/**
 * `defineOp`: an autograd op from a forward and a backward. Inputs are named, so backward
 * returns gradients by input name (never positional nulls); non-differentiable arguments go
 * in an options object.
 *
 * @example A unary op
 * ```ts ignore
 * export const gelu = defineOp({
 *   name: "gelu",
 *   forward(ctx, { x }: { x: Tensor }) {
 *     ctx.save({ x });
 *     return run(GELU.forward, { inp: x }, { n: x.size }, x.shape);
 *   },
 *   backward(ctx, dout) {
 *     return { x: run(GELU.backward, { inp: ctx.saved.x, dout }, { n: dout.size }, dout.shape) };
 *   },
 * });
 * ```
 * @module
 */

import { isGradEnabled } from "./grad_mode.ts";
import type { GraphNode, Tensor } from "./tensor.ts";

/** What a forward can save for its backward, and which inputs need gradients. */
export class OpContext<S extends Record<string, unknown> = Record<string, unknown>> {
  saved = {} as S;
  readonly needsGrad: Readonly<Record<string, boolean>>;

  constructor(needsGrad: Record<string, boolean>) {
    this.needsGrad = needsGrad;
  }

  /** Keeps tensors or values for backward (only while recording; they live in the step scope). */
  save(values: Partial<S>): void {
    Object.assign(this.saved, values);
  }
}

/** The forward/backward pair that `defineOp` takes. */
export interface OpSpec<I extends Record<string, Tensor>, O, S extends Record<string, unknown>> {
  name: string;
  forward(ctx: OpContext<S>, inputs: I, options: O): Tensor;
  /** Gradients by input name; an input may be left out when `ctx.needsGrad[name]` is false. */
  backward(ctx: OpContext<S>, dout: Tensor): Partial<Record<keyof I, Tensor>>;
}

/** An op callable on named inputs and options. */
export type Op<I extends Record<string, Tensor>, O> = (inputs: I, options?: O) => Tensor;

/** Makes an op that records itself for backward when any input requires a gradient. */
export function defineOp<
  I extends Record<string, Tensor>,
  O = Record<string, never>,
  S extends Record<string, unknown> = Record<string, unknown>,
>(spec: OpSpec<I, O, S>): Op<I, O> {
  return (inputs: I, options?: O): Tensor => {
    const needsGrad: Record<string, boolean> = {};
    let any = false;
    const recording = isGradEnabled();
    for (const [k, t] of Object.entries(inputs)) {
      needsGrad[k] = recording && t.requiresGrad;
      any ||= needsGrad[k];
    }
    const ctx = new OpContext<S>(needsGrad);
    const out = spec.forward(ctx, inputs, (options ?? {}) as O);
    if (any) {
      out.requiresGrad = true;
      const node: GraphNode = {
        opName: spec.name,
        inputs,
        backward: (dout) => spec.backward(ctx, dout) as Record<string, Tensor | undefined>,
      };
      out.node = node;
    } else {
      ctx.saved = {} as S;
    }
    return out;
  };
}
