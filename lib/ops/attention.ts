/**
 * Attention's two batched products with the heads read in place. `q`, `k`, `v` and the context
 * stay in the `[B, T, NH·HS]` layout the linear layers write, so no head is ever copied out:
 * each (example, head) pair is one product of the tiled kernels, told where its rows start and
 * that they lie `NH·HS` apart (`GemmSpec.strides`). The scores and probabilities are
 * `[B, NH, T, T]`, as with `splitHeads`, `matmul` and `mergeHeads`, which compute the same
 * numbers with four head copies forward and four backward.
 *
 * | op | computes | backward |
 * |---|---|---|
 * | `attentionScores` | `scale · q_h · k_hᵀ` per head | `dq_h = scale · dS · k_h`, `dk_h = scale · dSᵀ · q_h` |
 * | `attentionContext` | `probs_h · v_h`, heads merged | `dprobs = dctx_h · v_hᵀ`, `dv_h = probs_hᵀ · dctx_h` |
 *
 * The tiled kernels read vec4s, so both need T and HS to be multiples of 4
 * ({@linkcode attendsInPlace}); `BertSelfAttention` falls back to the copies otherwise. Under
 * autocast the operands are rounded to f16 as `matmul` does.
 *
 * @module
 */

import { isAutocast } from "../autograd/autocast.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, assertShape, type Tensor } from "../autograd/tensor.ts";
import { castTensor } from "./cast.ts";
import { attendsInPlace } from "../gpu/kernel_choice.ts";
import { gemm, type GemmSpec, type OperandStrides } from "./gemm.ts";

/** Options of the attention products. */
export interface AttentionOptions {
  /** NH, the number of heads; the last dimension of `q`, `k`, `v` is NH·HS. */
  heads: number;
}

/** Options of {@linkcode attentionScores}. */
export interface AttentionScoresOptions extends AttentionOptions {
  /** Scale of the scores, usually 1/√HS. Default 1. */
  scale?: number;
}

interface Dims {
  b: number;
  t: number;
  nh: number;
  hs: number;
}

function dims(name: string, x: Tensor, heads: number): Dims {
  assertDType(x, "f32", `run "${name}"`, "x");
  const [b, t, c] = x.shape;
  if (x.shape.length !== 3 || !Number.isInteger(heads) || heads < 1 || c % heads !== 0) {
    throw new TypeError(
      `Cannot run "${name}": expected [B, T, NH·HS] with NH = ${heads}, got [${
        x.shape.join(", ")
      }]`,
    );
  }
  const hs = c / heads;
  if (!attendsInPlace(t, hs)) {
    throw new TypeError(
      `Cannot run "${name}": T = ${t} and HS = ${hs} must be multiples of 4 ` +
        `(use splitHeads, matmul and mergeHeads otherwise)`,
    );
  }
  return { b, t, nh: heads, hs };
}

/** Head h of example b in `[B, T, NH·HS]`: rows NH·HS apart. */
const headsOf = ({ t, nh, hs }: Dims): OperandStrides => ({
  group: t * nh * hs,
  inner: hs,
  ld: nh * hs,
});

/** Matrix (b, h) of `[B, NH, T, T]`. */
const squaresOf = ({ t, nh }: Dims): OperandStrides => ({ group: nh * t * t, inner: t * t, ld: t });

/** One product per (example, head): `c = alpha · op(a) · op(b)`, operands laid out as given. */
function perHead(
  a: Tensor,
  b: Tensor,
  d: Dims,
  spec: Omit<GemmSpec, "batch" | "strides"> & {
    a: OperandStrides;
    b: OperandStrides;
    c: OperandStrides;
  },
): Tensor {
  const { a: sa, b: sb, c: sc, ...rest } = spec;
  return gemm({ a, b }, { ...rest, batch: d.b * d.nh, strides: { nh: d.nh, a: sa, b: sb, c: sc } });
}

interface ScoresSaved extends Record<string, unknown> {
  q: Tensor;
  k: Tensor;
  d: Dims;
  scale: number;
  half: boolean;
}

const scoresOp = defineOp<{ q: Tensor; k: Tensor }, AttentionScoresOptions, ScoresSaved>({
  name: "attentionScores",
  forward(ctx, { q, k }, { heads, scale = 1 }) {
    const d = dims("attentionScores", q, heads);
    assertDType(k, "f32", `run "attentionScores"`, "k");
    const { b, t, nh, hs } = d;
    assertShape(k, ["B", "T", "C"], "k", { B: b, T: t, C: nh * hs }, `run "attentionScores"`);
    const half = isAutocast(q.gpu);
    if (half) {
      q = castTensor(q, "f16");
      k = castTensor(k, "f16");
    }
    ctx.save({ q, k, d, scale, half });
    return perHead(q, k, d, {
      m: t,
      n: t,
      k: hs,
      transB: true,
      alpha: scale,
      a: headsOf(d),
      b: headsOf(d),
      c: squaresOf(d),
      shape: [d.b, d.nh, t, t],
    });
  },
  backward(ctx, grad) {
    const { q, k, d, scale, half } = ctx.saved;
    const ds = half ? castTensor(grad, "f16") : grad;
    const { t, hs } = d;
    const shape = [d.b, t, d.nh * hs];
    return {
      // dq = scale · dS · k: [T, T] · [T, HS].
      q: ctx.needsGrad.q
        ? perHead(ds, k, d, {
          m: t,
          n: hs,
          k: t,
          alpha: scale,
          a: squaresOf(d),
          b: headsOf(d),
          c: headsOf(d),
          shape,
        })
        : undefined,
      // dk = scale · dSᵀ · q: [T, T]ᵀ · [T, HS].
      k: ctx.needsGrad.k
        ? perHead(ds, q, d, {
          m: t,
          n: hs,
          k: t,
          transA: true,
          alpha: scale,
          a: squaresOf(d),
          b: headsOf(d),
          c: headsOf(d),
          shape,
        })
        : undefined,
    };
  },
});

/**
 * Attention scores of every head, `scale · q_h · k_hᵀ`, read from the `[B, T, NH·HS]` outputs
 * of the query and key layers.
 *
 * @param inputs `q`, `k` `[B, T, NH·HS]`.
 * @param options `heads` NH, `scale` (default 1).
 * @returns `[B, NH, T, T]`.
 * @throws {TypeError} on i32 inputs, shapes that differ or do not split into NH heads, or T or
 *   HS not a multiple of 4.
 * @example
 * ```ts ignore
 * const scores = attentionScores({ q, k }, { heads: 12, scale: 1 / 8 }); // [B, 12, T, T]
 * ```
 */
export const attentionScores: Op<{ q: Tensor; k: Tensor }, AttentionScoresOptions> = scoresOp;

interface ContextSaved extends Record<string, unknown> {
  probs: Tensor;
  v: Tensor;
  d: Dims;
  half: boolean;
}

const contextOp = defineOp<{ probs: Tensor; v: Tensor }, AttentionOptions, ContextSaved>({
  name: "attentionContext",
  forward(ctx, { probs, v }, { heads }) {
    const d = dims("attentionContext", v, heads);
    assertDType(probs, "f32", `run "attentionContext"`, "probs");
    const { b, t, nh, hs } = d;
    assertShape(
      probs,
      ["B", "NH", "T", "T"],
      "probs",
      { B: b, NH: nh, T: t },
      `run "attentionContext"`,
    );
    const half = isAutocast(v.gpu);
    if (half) {
      probs = castTensor(probs, "f16");
      v = castTensor(v, "f16");
    }
    ctx.save({ probs, v, d, half });
    return perHead(probs, v, d, {
      m: t,
      n: hs,
      k: t,
      a: squaresOf(d),
      b: headsOf(d),
      c: headsOf(d),
      shape: [b, t, nh * hs],
    });
  },
  backward(ctx, grad) {
    const { probs, v, d, half } = ctx.saved;
    const dctx = half ? castTensor(grad, "f16") : grad;
    const { b, t, nh, hs } = d;
    return {
      // dprobs = dctx · vᵀ: [T, HS] · [T, HS]ᵀ.
      probs: ctx.needsGrad.probs
        ? perHead(dctx, v, d, {
          m: t,
          n: t,
          k: hs,
          transB: true,
          a: headsOf(d),
          b: headsOf(d),
          c: squaresOf(d),
          shape: [b, nh, t, t],
        })
        : undefined,
      // dv = probsᵀ · dctx: [T, T]ᵀ · [T, HS].
      v: ctx.needsGrad.v
        ? perHead(probs, dctx, d, {
          m: t,
          n: hs,
          k: t,
          transA: true,
          a: squaresOf(d),
          b: headsOf(d),
          c: headsOf(d),
          shape: [b, t, nh * hs],
        })
        : undefined,
    };
  },
});

/**
 * Each head's context `probs_h · v_h`, written straight into the merged `[B, T, NH·HS]` layout
 * the output layer reads.
 *
 * @param inputs `probs` `[B, NH, T, T]`, `v` `[B, T, NH·HS]`.
 * @param options `heads` NH.
 * @returns `[B, T, NH·HS]`.
 * @throws {TypeError} on i32 inputs, mismatched shapes, or T or HS not a multiple of 4.
 * @example
 * ```ts ignore
 * const context = attentionContext({ probs, v }, { heads: 12 }); // [B, T, 768]
 * ```
 */
export const attentionContext: Op<{ probs: Tensor; v: Tensor }, AttentionOptions> = contextOp;
