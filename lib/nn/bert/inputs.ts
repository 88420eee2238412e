/**
 * `BertInputs`: one padded batch on the GPU. The attention mask travels as an additive f32
 * bias `[B, T]` (0 for real tokens, −10000 for padding, the HF 2.x convention), computed once
 * on the host.
 *
 * @module
 */

import { fromArray, type Tensor } from "../../autograd/tensor.ts";
import type { Gpu } from "../../gpu/device.ts";
import type { Batch } from "../../data/loader.ts";

/** A batch of token ids, token types, positions and the additive padding mask. */
export interface BertInputs {
  /** i32 `[B, T]`. */
  inputIds: Tensor;
  /** i32 `[B, T]`. */
  tokenTypeIds: Tensor;
  /** i32 `[T]`: 0..T−1. */
  positionIds: Tensor;
  /** f32 `[B, T]`: 0 or −10000. */
  maskBias: Tensor;
  /** B, the number of sequences. */
  batchSize: number;
  /** T, the padded length of every sequence. */
  seqLength: number;
  /**
   * The host arrays the ids were uploaded from (set by `uploadBatch`), so that the embedding
   * layer checks them against its tables without reading the GPU.
   */
  host?: { inputIds: Int32Array; tokenTypeIds: Int32Array };
}

/** The additive bias HF 2.x adds to attention logits for padding positions. */
export const MASK_NEG = -10000;

/** Host arrays of a padded batch, all `[B·T]` row-major. */
export interface HostBatch {
  /** Token ids, padded with the pad id. */
  inputIds: Int32Array;
  /** Segment ids (0 for the first text, 1 for the second). */
  tokenTypeIds: Int32Array;
  /** 1 on real tokens, 0 on padding. */
  attentionMask: Int32Array;
  /** B. */
  batchSize: number;
  /** T. */
  seqLength: number;
}

/**
 * Uploads a host batch (temporaries of the current scope): the ids as i32 tensors, positions
 * 0..T−1, and the attention mask turned into the additive bias. A data-loader {@linkcode Batch}
 * converts with `{ ...batch, batchSize: batch.size, seqLength: batch.seqLen }` (model forwards
 * also take a `Batch` or a `HostBatch` directly and upload it themselves).
 *
 * @example Encode two sentences and run BERT on them
 * ```ts ignore
 * const T = 16;
 * const enc = tokenizer.encodeBatch(["a short one", "and a longer sentence"], {
 *   maxLength: T,
 *   padToMaxLength: true,
 * });
 * const inputs = uploadBatch(gpu, {
 *   inputIds: Int32Array.from(enc.flatMap((e) => e.inputIds)),
 *   tokenTypeIds: Int32Array.from(enc.flatMap((e) => e.tokenTypeIds)),
 *   attentionMask: Int32Array.from(enc.flatMap((e) => e.attentionMask)),
 *   batchSize: enc.length,
 *   seqLength: T,
 * });
 * const { sequence, pooled } = bert.forward(inputs); // [2, 16, C], [2, C]
 * ```
 *
 * @throws {TypeError} when an array's length is not `batchSize · seqLength`.
 */
export function uploadBatch(gpu: Gpu, batch: HostBatch): BertInputs {
  const { batchSize: B, seqLength: T } = batch;
  for (const k of ["inputIds", "tokenTypeIds", "attentionMask"] as const) {
    if (batch[k].length !== B * T) {
      throw new TypeError(
        `Cannot upload batch: "${k}" has ${batch[k].length} values, expected ${B}·${T} = ${B * T}`,
      );
    }
  }
  const mask = new Float32Array(B * T);
  for (let i = 0; i < B * T; i++) mask[i] = batch.attentionMask[i] ? 0 : MASK_NEG;
  const positions = new Int32Array(T);
  for (let i = 0; i < T; i++) positions[i] = i;
  return {
    inputIds: fromArray(gpu, batch.inputIds, [B, T], { dtype: "i32" }),
    tokenTypeIds: fromArray(gpu, batch.tokenTypeIds, [B, T], { dtype: "i32" }),
    positionIds: fromArray(gpu, positions, [T], { dtype: "i32" }),
    maskBias: fromArray(gpu, mask, [B, T]),
    batchSize: B,
    seqLength: T,
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
