/**
 * `embedding`: the lookup of `nn.Embedding` (word, position and token-type embeddings), with a
 * deterministic scatter-add backward, and `checkIds`, the host-side range check. Kernels:
 * `kernels/embedding.ts`, `kernels/scatter_add.ts`.
 *
 * @module
 */

import { defineOp, type Op } from "../autograd/op.ts";
import { assertDType, assertShape, empty, type Tensor } from "../autograd/tensor.ts";
import { gatherInto, scatterAddRows } from "./scatter_add.ts";

type Saved = { ids: Tensor; shape: readonly number[]; paddingIdx: number };

/**
 * `weight[ids]`: `weight` `[V, C]`, i32 `ids` of any shape `[...]` → `[..., C]`. Ids outside
 * `[0, V)` are clamped in the kernel (never read out of bounds) and the first one is reported
 * at the next readback (a `RangeError` naming its value and position); ids built on the host are
 * best checked before upload (`checkIds`), where the error comes at once. The gradient is a scatter-add into `[V, C]`, summed in
 * token order so that it is bitwise reproducible; with `paddingIdx`, that row gets no gradient
 * (`nn.Embedding(padding_idx=…)`).
 *
 * @throws {TypeError} when `weight` is not f32 `[V, C]` or `ids` is not i32.
 * @example Word embeddings of a batch
 * ```ts ignore
 * const e = embedding({ weight: wordEmbeddings }, { ids }); // [28996, 768], [B, T] → [B, T, 768]
 * ```
 */
export const embedding: Op<{ weight: Tensor }, { ids: Tensor; paddingIdx?: number }> = defineOp<
  { weight: Tensor },
  { ids: Tensor; paddingIdx?: number },
  Saved
>({
  name: "embedding",
  forward(ctx, { weight }, { ids, paddingIdx = -1 }) {
    const action = `run "embedding"`;
    assertDType(weight, "f32", action, "weight");
    assertDType(ids, "i32", action, "ids");
    const { V, C } = assertShape(weight, ["V", "C"], "weight", {}, action);
    const out = empty(weight.gpu, [...ids.shape, C]);
    gatherInto({ table: weight, index: ids, out }, {
      rows: V,
      site: {
        action: `${action} on`,
        tensor: "ids",
        limitName: `rows of ${weight.name ?? '"weight"'}`,
      },
    });
    ctx.save({ ids, shape: weight.shape, paddingIdx });
    return out;
  },
  backward(ctx, dout) {
    const { ids, shape, paddingIdx } = ctx.saved;
    return { weight: scatterAddRows(dout, ids, shape, paddingIdx) };
  },
});

/**
 * Throws unless every id lies in `[0, V)`: the host-side check that turns a bad token id into
 * an error (the kernels clamp instead).
 *
 * @throws {RangeError} naming the first bad id, its position and `label`.
 */
export function checkIds(ids: Int32Array, V: number, label: string): void {
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= V) {
      throw new RangeError(
        `Cannot look up "${label}": id ${id} at position ${i} is outside [0, ${V})`,
      );
    }
  }
}
