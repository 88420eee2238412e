/**
 * `BertInputs`: one padded batch on the GPU. The attention mask travels as an additive f32
 * bias `[B, S]` (0 for real tokens, −10000 for padding, the HF 2.x convention), computed once
 * on the host.
 *
 * @module
 */

import { fromArray, type Tensor } from "../../autograd/tensor.ts";
import type { Gpu } from "../../gpu/device.ts";
import type { Batch } from "../../data/loader.ts";

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
  /** B, the number of sequences. */
  batchSize: number;
  /** S, the padded length of every sequence. */
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
  /** Token ids, padded with the pad id. */
  inputIds: Int32Array;
  /** Segment ids (0 for the first text, 1 for the second). */
  tokenTypeIds: Int32Array;
  /** 1 on real tokens, 0 on padding. */
  attentionMask: Int32Array;
  /** B. */
  batchSize: number;
  /** S. */
  seqLength: number;
}

/**
 * Uploads a host batch (temporaries of the current scope): the ids as i32 tensors, positions
 * 0..S−1, and the attention mask turned into the additive bias. A data-loader {@linkcode Batch}
 * converts with `{ ...batch, batchSize: batch.size, seqLength: batch.seqLen }` (model forwards
 * also take a `Batch` or a `HostBatch` directly and upload it themselves).
 *
 * @example Encode two sentences and run BERT on them
 * ```ts ignore
 * const S = 16;
 * const enc = tokenizer.encodeBatch(["a short one", "and a longer sentence"], {
 *   maxLength: S,
 *   padToMaxLength: true,
 * });
 * const inputs = uploadBatch(gpu, {
 *   inputIds: Int32Array.from(enc.flatMap((e) => e.inputIds)),
 *   tokenTypeIds: Int32Array.from(enc.flatMap((e) => e.tokenTypeIds)),
 *   attentionMask: Int32Array.from(enc.flatMap((e) => e.attentionMask)),
 *   batchSize: enc.length,
 *   seqLength: S,
 * });
 * const { sequence, pooled } = bert.forward(inputs); // [2, 16, C], [2, C]
 * ```
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

/** Uploads a batch collated by the data loader (temporaries of the current scope). */
export function uploadCollated(gpu: Gpu, batch: Batch): BertInputs {
  return uploadBatch(gpu, {
    inputIds: batch.inputIds,
    tokenTypeIds: batch.tokenTypeIds,
    attentionMask: batch.attentionMask,
    batchSize: batch.size,
    seqLength: batch.seqLen,
  });
}
