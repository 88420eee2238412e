/**
 * WordPiece: split one word into the longest vocabulary pieces, left to right.
 *
 * Greedy longest-match-first as in BERT (google-research/bert `WordpieceTokenizer`, HF
 * `WordpieceTokenizer`): from the current position take the longest vocabulary entry that
 * matches, writing every piece after the first with the continuing prefix `##`. A word that
 * cannot be covered completely, or that is longer than `maxInputCharsPerWord` code points,
 * becomes a single unknown token.
 *
 * @module
 */

/** Options of {@linkcode WordPiece}; the defaults are BERT's. */
export interface WordPieceOptions {
  /** Token for words that cannot be split. Default `"[UNK]"`. */
  unkToken?: string;
  /** Prefix of pieces that continue a word. Default `"##"`. */
  continuingSubwordPrefix?: string;
  /** Words with more code points than this become the unknown token. Default 100. */
  maxInputCharsPerWord?: number;
}

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLow(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** Whether `s` has more than `limit` code points (counting stops once it does). */
function codePointsAbove(s: string, limit: number): boolean {
  if (s.length <= limit) return false;
  let count = 0;
  for (let i = 0; i < s.length; i++) {
    if (!(isLow(s.charCodeAt(i)) && i > 0 && isHigh(s.charCodeAt(i - 1)))) count++;
    if (count > limit) return true;
  }
  return false;
}

/**
 * A greedy longest-match-first WordPiece splitter over a fixed vocabulary.
 *
 * @example Split a word into pieces
 * ```ts
 * import assert from "node:assert/strict";
 * import { WordPiece } from "./wordpiece.ts";
 * const wp = new WordPiece(new Set(["[UNK]", "un", "##want", "##ed"]));
 * assert.deepEqual(wp.tokenize("unwanted"), ["un", "##want", "##ed"]);
 * assert.deepEqual(wp.tokenize("wanted"), ["[UNK]"]);
 * ```
 */
export class WordPiece {
  /** Token for words that cannot be split. */
  readonly unkToken: string;
  /** Prefix of pieces that continue a word. */
  readonly continuingSubwordPrefix: string;
  /** Longest word, in code points, that is split rather than mapped to the unknown token. */
  readonly maxInputCharsPerWord: number;
  readonly #vocab: { has(token: string): boolean };
  // The longest entries in UTF-16 units, so the search never tries a longer substring.
  readonly #maxHead: number;
  readonly #maxTail: number;

  /**
   * @param vocab The vocabulary entries (a `Set`, or a `Map` keyed by token).
   * @param options Unknown token, continuing prefix and word-length limit.
   * @throws {RangeError} When `maxInputCharsPerWord` is not a non-negative integer.
   */
  constructor(
    vocab: ReadonlySet<string> | ReadonlyMap<string, unknown>,
    options: WordPieceOptions = {},
  ) {
    this.unkToken = options.unkToken ?? "[UNK]";
    this.continuingSubwordPrefix = options.continuingSubwordPrefix ?? "##";
    this.maxInputCharsPerWord = options.maxInputCharsPerWord ?? 100;
    if (!Number.isInteger(this.maxInputCharsPerWord) || this.maxInputCharsPerWord < 0) {
      throw new RangeError(
        `Cannot create "WordPiece": "maxInputCharsPerWord" must be a non-negative integer, got ${this.maxInputCharsPerWord}`,
      );
    }
    this.#vocab = vocab;
    const prefix = this.continuingSubwordPrefix;
    let maxHead = 0;
    let maxTail = 0;
    for (const token of vocab.keys()) {
      maxHead = Math.max(maxHead, token.length);
      if (prefix !== "" && token.startsWith(prefix)) {
        maxTail = Math.max(maxTail, token.length - prefix.length);
      }
    }
    this.#maxHead = maxHead;
    this.#maxTail = prefix === "" ? maxHead : maxTail;
  }

  /**
   * Splits one word (no whitespace) into vocabulary pieces.
   *
   * @param word A word from the basic tokenizer.
   * @returns The pieces, or `[unkToken]` when the word is too long or cannot be covered;
   *   empty for an empty word.
   */
  tokenize(word: string): string[] {
    if (codePointsAbove(word, this.maxInputCharsPerWord)) return [this.unkToken];
    const pieces: string[] = [];
    const n = word.length;
    const prefix = this.continuingSubwordPrefix;
    let start = 0;
    while (start < n) {
      const head = start === 0;
      let end = Math.min(n, start + (head ? this.#maxHead : this.#maxTail));
      let piece: string | undefined;
      for (; end > start; end--) {
        // Never cut a surrogate pair: the search steps by code points, as Python's does.
        if (end < n && isLow(word.charCodeAt(end)) && isHigh(word.charCodeAt(end - 1))) continue;
        const candidate = head ? word.slice(start, end) : prefix + word.slice(start, end);
        if (this.#vocab.has(candidate)) {
          piece = candidate;
          break;
        }
      }
      if (piece === undefined) return [this.unkToken];
      pieces.push(piece);
      start = end;
    }
    return pieces;
  }
}
