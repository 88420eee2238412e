/**
 * `mseLoss`: mean squared error of a regression head against float targets (PyTorch
 * `F.mse_loss`, mean reduction). Kernels: `kernels/mse.ts`.
 *
 * @module
 */

import { mseBackward, squaredError } from "../../kernels/mse.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { reduceAll } from "./reduce.ts";

type Saved = { input: Tensor; target: Tensor };

/**
 * Mean of `(input − target)²` as a `[1]` tensor. `input` is `[N]` or `[N, 1]` (a one-output
 * head; read as `[N]`, never broadcast against `target` to `[N, N]`), `target` is f32 `[N]`.
 * The gradient flows to `input` only. A NaN or infinite target is reported at the next
 * readback (a `RangeError` naming its position).
 *
 * @throws {TypeError} when shapes disagree or a tensor is not f32.
 * @example STS-B loss
 * ```ts ignore
 * const loss = mseLoss({ input: logits }, { target: scores }); // [8, 1], [8] → [1]
 * ```
 */
export const mseLoss: Op<{ input: Tensor }, { target: Tensor }> = defineOp<
  { input: Tensor },
  { target: Tensor },
  Saved
>({
  name: "mseLoss",
  forward(ctx, { input }, { target }) {
    const action = `run "mseLoss"`;
    assertDType(input, "f32", action, "input");
    assertDType(target, "f32", action, "target");
    const s = input.shape;
    const n = s[0];
    const ok = target.shape.length === 1 && target.shape[0] === n &&
      (s.length === 1 || (s.length === 2 && s[1] === 1));
    if (!ok) {
      throw new TypeError(
        `Cannot ${action}: "input" is [${s.join(", ")}] and "target" is [${
          target.shape.join(", ")
        }], expected [N] or [N, 1] and [N]`,
      );
    }
    const sq = empty(input.gpu, [n]);
    const site = input.gpu.recorder.faults.site({
      action: `${action} on`,
      tensor: "target",
      shape: target.shape,
      kind: "finite",
    });
    dispatch(squaredError, { pred: input, tgt: target, out: sq }, { n, site });
    ctx.save({ input, target });
    return reduceAll(sq, { scale: 1 / Math.max(1, n) });
  },
  backward(ctx, dout) {
    const { input, target } = ctx.saved;
    const dinput = empty(input.gpu, input.shape);
    dispatch(mseBackward, { pred: input, tgt: target, dout, dinput }, {
      n: target.size,
      scale: 2 / Math.max(1, target.size),
    });
    return { input: dinput };
  },
});
