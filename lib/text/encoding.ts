/**
 * BERT model inputs for one example: `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, truncated
 * "longest first" to a maximum length and optionally padded.
 *
 * Token types are 0 for `[CLS]`, A and the first `[SEP]`, and 1 for B and its `[SEP]`
 * (docs/model.md §14.3). Truncation follows HF's `longest_first` strategy: tokens are removed
 * one at a time from the end of the longer sequence, and from B when both are equally long.
 *
 * @module
 */

/** The model inputs of one example, all of the same length T. */
export interface Encoding {
  /** Token ids, `[T]`. */
  inputIds: number[];
  /** Segment ids: 0 for the first segment (with `[CLS]` and its `[SEP]`), 1 for the second, `[T]`. */
  tokenTypeIds: number[];
  /** 1 on real tokens, 0 on padding, `[T]`. */
  attentionMask: number[];
}

/** Length options of an encoding. */
export interface EncodeOptions {
  /** Total length including special tokens, after truncation. Default {@linkcode DEFAULT_MAX_LENGTH}. */
  maxLength?: number;
  /** Pad with `[PAD]` (mask 0, type 0) up to `maxLength`. Default false. */
  padToMaxLength?: boolean;
}

/** The default `maxLength` (CA-MTL's `max_seq_length`). */
export const DEFAULT_MAX_LENGTH = 128;

/** The special-token ids an encoding needs. */
export interface SpecialIds {
  /** `[CLS]`. */
  cls: number;
  /** `[SEP]`. */
  sep: number;
  /** `[PAD]`. */
  pad: number;
}

/** The token ids of one example before special tokens are added. */
export interface Segments {
  /** Ids of the first text. */
  a: ArrayLike<number>;
  /** Ids of the second text of a pair. */
  b?: ArrayLike<number>;
  /** The `[CLS]`, `[SEP]` and `[PAD]` ids. */
  special: SpecialIds;
}

/**
 * How many tokens of A and B survive "longest first" truncation to `budget` tokens.
 *
 * Equivalent to HF's loop "remove one token from the longer sequence, from B on a tie",
 * in closed form: first the longer one is cut down to the other's length, then the rest
 * is shared with B taking the odd token.
 *
 * @param lengths Tokens in A and in B (no special tokens); B absent for a single sequence.
 * @param budget Tokens allowed for A and B together (maxLength minus special tokens), ≥ 0.
 * @returns The kept lengths `[a, b]` (`b` = 0 without B).
 *
 * @example A pair of 5 and 5 tokens cut to 7
 * ```ts
 * import assert from "node:assert/strict";
 * import { truncateLongestFirst } from "./encoding.ts";
 * assert.deepEqual(truncateLongestFirst([5, 5], 7), [4, 3]);
 * ```
 */
export function truncateLongestFirst(
  lengths: readonly [lengthA: number, lengthB?: number],
  budget: number,
): [number, number] {
  const [lengthA, lengthB] = lengths;
  let a = lengthA;
  let b = lengthB ?? 0;
  let remove = a + b - budget;
  if (remove <= 0) return [a, b];
  if (lengthB === undefined) return [a - remove, 0];
  const gap = Math.min(remove, Math.abs(a - b));
  if (a > b) a -= gap;
  else b -= gap;
  remove -= gap;
  b -= Math.ceil(remove / 2);
  a -= Math.floor(remove / 2);
  return [a, b];
}

/**
 * Builds the model inputs from the WordPiece ids of A and (optionally) B.
 *
 * @param segments The ids of A and (optionally) B without special tokens, and the special ids.
 * @param options Maximum length and padding.
 * @returns The encoding; its length is `maxLength` when padding, else at most `maxLength`.
 * @throws {RangeError} When `maxLength` is not an integer large enough for the special tokens.
 *
 * @example A pair with token types
 * ```ts
 * import assert from "node:assert/strict";
 * import { assembleEncoding } from "./encoding.ts";
 * const special = { cls: 1, sep: 2, pad: 0 };
 * const e = assembleEncoding({ a: [7, 8], b: [9], special }, {});
 * assert.deepEqual(e.inputIds, [1, 7, 8, 2, 9, 2]);
 * assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 1, 1]);
 * ```
 */
export function assembleEncoding(segments: Segments, options: EncodeOptions): Encoding {
  const { a: idsA, b: idsB, special } = segments;
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const specials = idsB === undefined ? 2 : 3;
  if (!Number.isInteger(maxLength) || maxLength < specials) {
    throw new RangeError(
      `Cannot encode ${idsB === undefined ? "a single text" : "a text pair"}: "maxLength" is ` +
        `${maxLength}, it must be an integer of at least ${specials} to hold the special tokens`,
    );
  }
  const lengths: [number, number?] = idsB === undefined
    ? [idsA.length]
    : [idsA.length, idsB.length];
  const [a, b] = truncateLongestFirst(lengths, maxLength - specials);
  const used = a + b + specials;
  const total = options.padToMaxLength ? maxLength : used;
  const inputIds = new Array<number>(total);
  const tokenTypeIds = new Array<number>(total).fill(0);
  const attentionMask = new Array<number>(total).fill(0);
  let t = 0;
  inputIds[t++] = special.cls;
  for (let i = 0; i < a; i++) inputIds[t++] = idsA[i];
  inputIds[t++] = special.sep;
  if (idsB !== undefined) {
    const start = t;
    for (let i = 0; i < b; i++) inputIds[t++] = idsB[i];
    inputIds[t++] = special.sep;
    tokenTypeIds.fill(1, start, t);
  }
  attentionMask.fill(1, 0, used);
  inputIds.fill(special.pad, used);
  return { inputIds, tokenTypeIds, attentionMask };
}
