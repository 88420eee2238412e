/**
 * `BertInputs`: one padded batch on the GPU. The attention mask travels as an additive f32
 * bias `[B, S]` (0 for real tokens, −10000 for padding, the HF 2.x convention), computed once
 * on the host.
 *
 * @module
 */

import { fromArray, type Tensor } from "../../autograd/tensor.ts";
import type { Gpu } from "../../gpu/device.ts";

/** A batch of token ids, token types, positions and the additive padding mask. */
export interface BertInputs {
  /** i32 `[B, S]`. */
  inputIds: Tensor;
  /** i32 `[B, S]`. */
  tokenTypeIds: Tensor;
  /** i32 `[S]`: 0..S−1. */
  positionIds: Tensor;
  /** f32 `[B, S]`: 0 or −10000. */
  maskBias: Tensor;
  batchSize: number;
  seqLength: number;
  /**
   * The host arrays the ids were uploaded from (set by `uploadBatch`), so that the embedding
   * layer checks them against its tables without reading the GPU.
   */
  host?: { inputIds: Int32Array; tokenTypeIds: Int32Array };
}

/** The additive bias HF 2.x adds to attention logits for padding positions. */
export const MASK_NEG = -10000;

/** Host arrays of a padded batch, all `[B·S]` row-major. */
export interface HostBatch {
  inputIds: Int32Array;
  tokenTypeIds: Int32Array;
  attentionMask: Int32Array;
  batchSize: number;
  seqLength: number;
}

/**
 * Uploads a host batch (temporaries of the current scope).
 *
 * @throws {TypeError} when an array's length is not `batchSize · seqLength`.
 */
export function uploadBatch(gpu: Gpu, batch: HostBatch): BertInputs {
  const { batchSize: B, seqLength: S } = batch;
  for (const k of ["inputIds", "tokenTypeIds", "attentionMask"] as const) {
    if (batch[k].length !== B * S) {
      throw new TypeError(
        `Cannot upload batch: "${k}" has ${batch[k].length} values, expected ${B}·${S} = ${B * S}`,
      );
    }
  }
  const mask = new Float32Array(B * S);
  for (let i = 0; i < B * S; i++) mask[i] = batch.attentionMask[i] ? 0 : MASK_NEG;
  const positions = new Int32Array(S);
  for (let i = 0; i < S; i++) positions[i] = i;
  return {
    inputIds: fromArray(gpu, batch.inputIds, [B, S], { dtype: "i32" }),
    tokenTypeIds: fromArray(gpu, batch.tokenTypeIds, [B, S], { dtype: "i32" }),
    positionIds: fromArray(gpu, positions, [S], { dtype: "i32" }),
    maskBias: fromArray(gpu, mask, [B, S]),
    batchSize: B,
    seqLength: S,
    host: { inputIds: batch.inputIds, tokenTypeIds: batch.tokenTypeIds },
  };
}
