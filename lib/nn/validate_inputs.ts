/**
 * Host-side checks of what goes into BERT's embedding tables and the loss, run where the batch
 * is built (the ids are on the host there, so the check is a scan, with no GPU wait): token ids
 * in `[0, vocab_size)`, token types in `[0, type_vocab_size)`, sequences no longer than
 * `max_position_embeddings`, class labels in `[0, num_labels)` and finite regression targets.
 * The kernels would clamp a bad index and train on the wrong row without a word (PyTorch raises
 * an index error instead); here the error names the tensor, the value, its position and the
 * limit. Tensors made on the GPU are checked by the kernels' fault flags (`lib/gpu/faults.ts`).
 *
 * @module
 */

import { outsideMessage, positionOf } from "../gpu/faults.ts";

/** The limits of a model's embedding tables. */
export interface EmbeddingLimits {
  /** `vocab_size`: rows of the word embedding. */
  vocabSize: number;
  /** `type_vocab_size`: rows of the token-type embedding. */
  typeVocabSize: number;
  /** `max_position_embeddings`: rows of the position embedding. */
  maxPositionEmbeddings: number;
}

/** What a {@linkcode checkIndexRange} call checks, for its message. */
export interface IndexCheck {
  /** The action that needs the values, e.g. `embed` or `use` (followed by the tensor). */
  action: string;
  /** The tensor's name, e.g. `input_ids`. */
  tensor: string;
  /** Its shape, to give positions as `[row, column]`. */
  shape: readonly number[];
  /** The exclusive upper bound. */
  limit: number;
  /** What the bound is, e.g. `vocab_size`. */
  limitName: string;
}

/**
 * Throws unless every value is an integer in `[0, limit)`.
 *
 * @throws {RangeError} `Cannot embed input_ids: value 40000 at [3, 17] is outside [0, 30522)
 *   (vocab_size)`, for the first bad value
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { checkIndexRange } from "./validate_inputs.ts";
 * const what = { action: "embed", tensor: "input_ids", shape: [2, 2], limit: 5, limitName: "vocab_size" };
 * checkIndexRange(Int32Array.of(0, 1, 4, 2), what);
 * throws(() => checkIndexRange(Int32Array.of(0, 1, 9, 2), what), /value 9 at \[1, 0\]/);
 * ```
 */
export function checkIndexRange(values: ArrayLike<number>, what: IndexCheck): void {
  const { limit } = what;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v >= 0 && v < limit && Number.isInteger(v)) continue;
    throw new RangeError(
      outsideMessage(what, { value: v, position: positionOf(i, what.shape), limit }),
    );
  }
}

/**
 * Throws unless a batch of `seqLength` tokens per row fits the position table.
 *
 * @throws {RangeError} naming the sequence length, `max_position_embeddings` and the fix
 */
export function checkSequenceLength(seqLength: number, maxPositionEmbeddings: number): void {
  if (seqLength <= maxPositionEmbeddings) return;
  throw new RangeError(
    outsideMessage(
      { action: "embed", tensor: "position_ids", limitName: "max_position_embeddings" },
      { value: seqLength - 1, position: `[${seqLength - 1}]`, limit: maxPositionEmbeddings },
    ) +
      `: the batch has ${seqLength} tokens per row; truncate to ${maxPositionEmbeddings} ` +
      `(--max_seq_length)`,
  );
}

/**
 * Checks a host batch against the embedding tables: sequence length, then token ids, then
 * token types.
 *
 * @param batch `[B, T]` row-major ids and types
 * @throws {RangeError} for the first value outside its table, named as HF names the inputs
 */
export function checkBertBatch(
  batch: {
    inputIds: ArrayLike<number>;
    tokenTypeIds: ArrayLike<number>;
    batchSize: number;
    seqLength: number;
  },
  limits: EmbeddingLimits,
): void {
  const shape = [batch.batchSize, batch.seqLength];
  checkSequenceLength(batch.seqLength, limits.maxPositionEmbeddings);
  checkIndexRange(batch.inputIds, {
    action: "embed",
    tensor: "input_ids",
    shape,
    limit: limits.vocabSize,
    limitName: "vocab_size",
  });
  checkIndexRange(batch.tokenTypeIds, {
    action: "embed",
    tensor: "token_type_ids",
    shape,
    limit: limits.typeVocabSize,
    limitName: "type_vocab_size",
  });
}

/**
 * Throws unless every regression target is finite.
 *
 * @throws {RangeError} naming the first NaN or infinite value and its position
 */
export function checkFiniteTargets(
  values: ArrayLike<number>,
  what: { action: string; tensor: string },
): void {
  for (let i = 0; i < values.length; i++) {
    if (Number.isFinite(values[i])) continue;
    throw new RangeError(
      `Cannot ${what.action} ${what.tensor}: value ${values[i]} at [${i}] is not finite`,
    );
  }
}
