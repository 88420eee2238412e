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
  /** What forward passed to {@linkcode OpContext.save}; cleared when nothing needs a gradient. */
  saved: S = {} as S;
  /** By input name: whether that input needs a gradient (grad mode on and `requiresGrad`). */
  readonly needsGrad: Readonly<Record<string, boolean>>;

  /**
   * Made by the op {@linkcode defineOp} returns, once per call.
   *
   * @param needsGrad By input name, whether that input needs a gradient.
   */
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
  /** The op's name, as `backward` reports it in errors. */
  name: string;
  /**
   * Computes the output from the named `inputs` and the `options` (`{}` when the caller passed
   * none), saving in `ctx` what backward needs.
   */
  forward(ctx: OpContext<S>, inputs: I, options: O): Tensor;
  /** Gradients by input name; an input may be left out when `ctx.needsGrad[name]` is false. */
  backward(ctx: OpContext<S>, dout: Tensor): Partial<Record<keyof I, Tensor>>;
}

/** An op callable on named inputs and options. */
export type Op<I extends Record<string, Tensor>, O> = (inputs: I, options?: O) => Tensor;

/**
 * Makes an op that records itself for backward when any input requires a gradient (and grad
 * mode is on): its output then gets `requiresGrad` and a graph node whose backward calls
 * `spec.backward`. Otherwise the forward runs alone and nothing is kept.
 *
 * @example A squaring op, from public ops
 * ```ts ignore
 * const square = defineOp<{ x: Tensor }, Record<string, never>, { x: Tensor }>({
 *   name: "square",
 *   forward(ctx, { x }) {
 *     ctx.save({ x });
 *     return mul({ a: x, b: x });
 *   },
 *   backward(ctx, dout) {
 *     return { x: scale({ a: mul({ a: dout, b: ctx.saved.x }) }, { s: 2 }) };
 *   },
 * });
 * const y = square({ x }); // x² elementwise; backward(sum({ x: y })) gives x.grad = 2x
 * ```
 */
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
