/**
 * `linear`: `y = x · weightᵀ + bias` with PyTorch's `[out, in]` weight layout, the bias fused
 * into the matmul kernel, and a dedicated column-sum kernel for the bias gradient. Under autocast
 * (`--fp16`) `x`, `weight` and, in backward, `dout` are rounded to f16 for the three products,
 * which accumulate in f32; the bias, its gradient and every result stay f32. See
 * https://pytorch.org/docs/stable/generated/torch.nn.Linear.html.
 *
 * @module
 */

import { columnSum, columnSumVec4 } from "../../kernels/matmul_bias.ts";
import { isAutocast } from "../autograd/autocast.ts";
import { defineOp } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { castTensor } from "./cast.ts";
import { fusedColumnSums } from "../gpu/kernel_choice.ts";
import { gemm } from "./gemm.ts";

/** Inputs of {@linkcode linear}. */
export interface LinearInputs {
  /** `[..., IN]`. */
  x: Tensor;
  /** `[OUT, IN]`. */
  weight: Tensor;
  /** `[OUT]`, optional. */
  bias?: Tensor;
}

interface Dims {
  rows: number;
  inFeatures: number;
  outFeatures: number;
}

interface Saved extends Record<string, unknown> {
  /** `x` and `weight` as the products read them: f16 copies under autocast. */
  x: Tensor;
  weight: Tensor;
  dims: Dims;
  /** Autocast was on: backward rounds dout to f16 for the products too. */
  half: boolean;
}

const ACTION = `run "linear"`;
const show = (t: Tensor) => `[${t.shape.join(", ")}]`;

function check({ x, weight, bias }: LinearInputs): Dims {
  assertDType(x, "f32", ACTION, "x");
  assertDType(weight, "f32", ACTION, "weight");
  if (bias) assertDType(bias, "f32", ACTION, "bias");
  if (weight.shape.length !== 2) {
    throw new TypeError(`Cannot ${ACTION}: "weight" is ${show(weight)}, expected [OUT, IN]`);
  }
  const [outFeatures, inFeatures] = weight.shape;
  if (x.shape.length === 0 || x.shape[x.shape.length - 1] !== inFeatures) {
    throw new TypeError(
      `Cannot ${ACTION}: "x" is ${show(x)}, expected [..., ${inFeatures}] to match ` +
        `"weight" ${show(weight)}`,
    );
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outFeatures)) {
    throw new TypeError(
      `Cannot ${ACTION}: "bias" is ${show(bias)}, expected [${outFeatures}] to match ` +
        `"weight" ${show(weight)}`,
    );
  }
  return { rows: x.size / inFeatures, inFeatures, outFeatures };
}

/** `db = Σ over rows of dout [rows, OUT]`, with four columns per invocation when it can. */
function biasGrad(dout: Tensor, { rows, outFeatures }: Dims): Tensor {
  const db = empty(dout.gpu, [outFeatures]);
  if (outFeatures % 4 === 0 && rows > 0) {
    dispatch(columnSumVec4, { inp: dout, out: db }, { rows, cols4: outFeatures / 4 });
  } else {
    dispatch(columnSum, { inp: dout, out: db }, { rows, cols: outFeatures });
  }
  return db;
}

const linearOp = defineOp<
  { x: Tensor; weight: Tensor; bias?: Tensor },
  Record<string, never>,
  Saved
>({
  name: "linear",
  forward(ctx, inputs) {
    const dims = check(inputs);
    const { bias } = inputs;
    const half = isAutocast(inputs.x.gpu);
    const x = half ? castTensor(inputs.x, "f16") : inputs.x;
    const weight = half ? castTensor(inputs.weight, "f16") : inputs.weight;
    const { rows, inFeatures, outFeatures } = dims;
    ctx.save({ x, weight, dims, half });
    return gemm({ a: x, b: weight }, {
      batch: 1,
      m: rows,
      n: outFeatures,
      k: inFeatures,
      transB: true,
      bias,
      shape: [...x.shape.slice(0, -1), outFeatures],
    });
  },
  backward(ctx, grad) {
    const { x, weight, dims, half } = ctx.saved;
    const { rows, inFeatures, outFeatures } = dims;
    const dout = half ? castTensor(grad, "f16") : grad;
    // dW = doutᵀ · x, summed over every row: [OUT, rows] · [rows, IN].
    const dwSpec = { batch: 1, m: outFeatures, n: inFeatures, k: rows, transA: true };
    // In f32 the weight-gradient kernel may sum dout's columns on the way (the bias gradient);
    // under autocast the bias gradient stays a sum of the f32 gradient.
    const fused = ctx.needsGrad.weight && ctx.needsGrad.bias && !half &&
      fusedColumnSums(grad.gpu, dwSpec);
    const db = fused ? empty(grad.gpu, [outFeatures]) : undefined;
    return {
      // dx = dout · W: [rows, OUT] · [OUT, IN].
      x: ctx.needsGrad.x
        ? gemm({ a: dout, b: weight }, {
          batch: 1,
          m: rows,
          n: inFeatures,
          k: outFeatures,
          shape: x.shape,
        })
        : undefined,
      weight: ctx.needsGrad.weight
        ? gemm({ a: dout, b: x }, { ...dwSpec, columnSums: db, shape: weight.shape })
        : undefined,
      bias: ctx.needsGrad.bias ? (db ?? biasGrad(grad, dims)) : undefined,
    };
  },
});

/**
 * A fully connected layer, `y = x · weightᵀ + bias`.
 *
 * @param inputs `x` `[..., IN]`, `weight` `[OUT, IN]`, optional `bias` `[OUT]`.
 * @returns `[..., OUT]`.
 * @throws {TypeError} on i32 inputs or shapes that do not match.
 * @example BERT's intermediate dense layer
 * ```ts ignore
 * const h = linear({ x, weight, bias }); // x [B, T, 768], weight [3072, 768] → [B, T, 3072]
 * ```
 */
export function linear(inputs: LinearInputs): Tensor {
  const { x, weight, bias } = inputs;
  return bias ? linearOp({ x, weight, bias }) : linearOp({ x, weight });
}
