/**
 * `crossEntropy`: softmax cross-entropy with integer labels, mean over rows (PyTorch
 * `F.cross_entropy`), and `normalizedEntropy`, the per-row prediction entropy over ln K that
 * the MT-Uncertainty sampler ranks candidates by. Kernels: `kernels/cross_entropy.ts`.
 *
 * @module
 */

import {
  crossEntropyBackward,
  crossEntropyForward,
  normalizedEntropyKernel,
} from "../../kernels/cross_entropy.ts";
import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, assertShape, empty, type Tensor } from "../autograd/tensor.ts";
import { dispatch } from "../gpu/dispatch.ts";
import { reduceAll } from "./reduce.ts";
import { rowReduceWorkgroupSize } from "../../kernels/reduce.ts";

type Saved = { logits: Tensor; labels: Tensor; lse: Tensor };

/**
 * Mean cross-entropy of `logits` `[N, K]` against i32 `labels` `[N]`, as a `[1]` tensor.
 * Stable for large logits (log-sum-exp after subtracting the row maximum). The gradient flows
 * to `logits` only: `(softmax − onehot) / N · dout`.
 *
 * Labels must lie in `[0, K)`; the kernels clamp them so that none reads out of bounds, and the
 * first label outside is reported at the next readback (a `RangeError` naming the label, its row
 * and K), so a wrong loss is never returned quietly.
 *
 * @throws {TypeError} when shapes disagree or `labels` is not i32 / `logits` not f32.
 * @example Loss of a classification head
 * ```ts ignore
 * const loss = crossEntropy({ logits }, { labels }); // [32, 2], [32] → [1]
 * backward(loss);
 * ```
 */
export const crossEntropy: Op<{ logits: Tensor }, { labels: Tensor }> = defineOp<
  { logits: Tensor },
  { labels: Tensor },
  Saved
>({
  name: "crossEntropy",
  forward(ctx, inputs, { labels }) {
    const action = `run "crossEntropy"`;
    if (labels === undefined && "labels" in inputs) {
      throw new TypeError(
        `Cannot ${action}: "labels" goes in the options, as crossEntropy({ logits }, { labels })`,
      );
    }
    const { logits } = inputs;
    assertDType(logits, "f32", action, "logits");
    assertDType(labels, "i32", action, "labels");
    const dims = assertShape(logits, ["N", "K"], "logits", {}, action);
    assertShape(labels, ["N"], "labels", dims, action);
    const rows = dims.N;
    const loss = empty(logits.gpu, [rows]);
    const lse = empty(logits.gpu, [rows]);
    const site = logits.gpu.recorder.faults.site({
      action: `${action} on`,
      tensor: "labels",
      shape: labels.shape,
      kind: "index",
      limit: dims.K,
      limitName: "classes in logits",
    });
    dispatch(crossEntropyForward, { logits, labels, loss, lse }, { rows, k: dims.K, site }, {
      WG: rowReduceWorkgroupSize(dims.K),
    });
    ctx.save({ logits, labels, lse });
    return reduceAll(loss, { scale: 1 / Math.max(1, rows) });
  },
  backward(ctx, dout) {
    const { logits, labels, lse } = ctx.saved;
    const [rows, k] = logits.shape;
    const dlogits = empty(logits.gpu, logits.shape);
    dispatch(crossEntropyBackward, { logits, labels, lse, dout, dlogits }, {
      n: logits.size,
      k,
      inv_rows: 1 / Math.max(1, rows),
    });
    return { logits: dlogits };
  },
});

/**
 * Per-row entropy of softmax(`logits`) divided by `ln K + eps`, as `[N]` (no gradient). With
 * the default `eps = 0` a uniform row gives 1; K = 1 gives 0. The released CA-MTL code divides
 * by `ln K + 1e-5` (pass `{ eps: 1e-5 }` to match it exactly).
 *
 * @throws {TypeError} when `logits` is not an f32 `[N, K]` tensor.
 * @example Sampler scores
 * ```ts ignore
 * const h = await normalizedEntropy(logits).readFloat(); // [N] in [0, 1]
 * ```
 */
export function normalizedEntropy(logits: Tensor, { eps = 0 }: { eps?: number } = {}): Tensor {
  const action = `run "normalizedEntropy"`;
  assertDType(logits, "f32", action, "logits");
  const { N, K } = assertShape(logits, ["N", "K"], "logits", {}, action);
  const out = empty(logits.gpu, [N]);
  const invLogK = K > 1 ? 1 / (Math.log(K) + eps) : 0;
  dispatch(normalizedEntropyKernel, { logits, out }, { rows: N, k: K, inv_log_k: invLogK }, {
    WG: rowReduceWorkgroupSize(K),
  });
  return out;
}
