/**
 * `BertTokenizer`: text → WordPiece tokens → BERT model inputs, as Hugging Face's
 * (slow, Python) `BertTokenizer` produces them for CA-MTL (docs/model.md §14.3).
 *
 * The pipeline: special tokens written in the text (`[SEP]`, …) are split out and kept
 * whole; the rest goes through {@linkcode BasicTokenizer} and then {@linkcode WordPiece}.
 * WordPiece ids are cached per word, so repeated words cost one `Map` lookup.
 *
 * @module
 */

import { BasicTokenizer, type BasicTokenizerOptions } from "./basic_tokenizer.ts";
import {
  assembleEncoding,
  type EncodeOptions,
  type Encoding,
  type SpecialIds,
} from "./encoding.ts";
import { loadFolder } from "./_folder_config.ts";
import { tokenizeWithOffsets, type TokenOffsets } from "./offsets.ts";
import { Vocab } from "./vocab.ts";
import { WordPiece } from "./wordpiece.ts";

/** The special tokens of a BERT vocabulary, by role. */
export interface SpecialTokens {
  /** Unknown word, default `"[UNK]"`. */
  unk: string;
  /** Separator, default `"[SEP]"`. */
  sep: string;
  /** Padding, default `"[PAD]"`. */
  pad: string;
  /** Classification token, default `"[CLS]"`. */
  cls: string;
  /** Masked-LM token, default `"[MASK]"` (optional in the vocabulary). */
  mask: string;
}

/** BERT's special tokens. */
export const DEFAULT_SPECIAL_TOKENS: Readonly<SpecialTokens> = Object.freeze({
  unk: "[UNK]",
  sep: "[SEP]",
  pad: "[PAD]",
  cls: "[CLS]",
  mask: "[MASK]",
});

/** Options of {@linkcode BertTokenizer}: basic-tokenizer switches plus WordPiece settings. */
export interface BertTokenizerOptions extends BasicTokenizerOptions {
  /** Special tokens that differ from BERT's. */
  specialTokens?: Partial<SpecialTokens>;
  /** WordPiece continuing prefix. Default `"##"`. */
  continuingSubwordPrefix?: string;
  /** Longer words (in code points) become `[UNK]`. Default 100. */
  maxInputCharsPerWord?: number;
}

/** Options of {@linkcode BertTokenizer.fromFolder}. */
export interface FromFolderOptions extends BertTokenizerOptions {
  /** The model name used to guess casing when no config says (contains "uncased" → lower). */
  nameHint?: string;
}

/** One example: a single text, or a pair `[textA, textB]`. */
export type TextInput = string | readonly [textA: string, textB?: string | undefined];

/** Options of {@linkcode BertTokenizer.decode}. */
export interface DecodeOptions {
  /** Leave out special tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`, `[UNK]`). Default true. */
  skipSpecialTokens?: boolean;
  /** Remove the space before `. ? ! ,` and inside English contractions, as HF does. Default true. */
  cleanUpTokenizationSpaces?: boolean;
}

const ROLES = {
  unk: { name: "unknown token", configKey: "unk_token" },
  sep: { name: "separator token", configKey: "sep_token" },
  pad: { name: "padding token", configKey: "pad_token" },
  cls: { name: "classification token", configKey: "cls_token" },
} as const;

// Bounds the per-word cache; GLUE as a whole has a few hundred thousand distinct words.
const CACHE_LIMIT = 1 << 20;

const CLEANUPS: ReadonlyArray<readonly [string, string]> = [
  [" .", "."],
  [" ?", "?"],
  [" !", "!"],
  [" ,", ","],
  [" ' ", "'"],
  [" n't", "n't"],
  [" 'm", "'m"],
  [" 's", "'s"],
  [" 've", "'ve"],
  [" 're", "'re"],
];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * BERT's WordPiece tokenizer with `[CLS] A [SEP] B [SEP]` encoding.
 *
 * @example Encode a pair, truncated and padded
 * ```ts
 * import assert from "node:assert/strict";
 * import { BertTokenizer } from "./tokenizer.ts";
 * const tok = BertTokenizer.fromVocab(
 *   ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "!"],
 *   { doLowerCase: true },
 * );
 * const e = tok.encode("Hello!", "world", { maxLength: 8, padToMaxLength: true });
 * assert.deepEqual(e.inputIds, [2, 5, 7, 3, 6, 3, 0, 0]);
 * assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 1, 1, 0, 0]);
 * assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1, 0, 0]);
 * ```
 */
export class BertTokenizer {
  /**
   * The vocabulary (token ↔ id); `vocabSize`, `convertTokensToIds` and `convertIdsToTokens`
   * are its public face.
   *
   * @internal
   */
  readonly vocab: Vocab;
  /** The special tokens by role. */
  readonly specialTokens: Readonly<SpecialTokens>;
  /**
   * The basic (pre-WordPiece) tokenizer: cleaning, casing, accents, punctuation splits.
   *
   * @internal
   */
  readonly basic: BasicTokenizer;
  /**
   * The WordPiece splitter.
   *
   * @internal
   */
  readonly wordPiece: WordPiece;
  /** Id of `[UNK]`. */
  readonly unkId: number;
  /** Id of `[SEP]`. */
  readonly sepId: number;
  /** Id of `[PAD]`. */
  readonly padId: number;
  /** Id of `[CLS]`. */
  readonly clsId: number;
  /** Id of `[MASK]`, or `undefined` when the vocabulary has none. */
  readonly maskId: number | undefined;
  readonly #ids: ReadonlyMap<string, number>;
  readonly #specialIds: ReadonlySet<number>;
  readonly #special: SpecialIds;
  readonly #specialRe: RegExp | undefined;
  readonly #cache = new Map<string, readonly number[]>();

  /**
   * A tokenizer over a vocabulary; {@linkcode BertTokenizer.fromVocab} and
   * {@linkcode BertTokenizer.fromFolder} build the vocabulary for you.
   *
   * @param vocab The vocabulary.
   * @param options Casing, cleaning, special tokens and WordPiece settings.
   * @throws {TypeError} When the vocabulary lacks the unknown, separator, padding or
   *   classification token; the message names the vocabulary file and the fix.
   */
  constructor(vocab: Vocab, options: BertTokenizerOptions = {}) {
    this.vocab = vocab;
    const special: SpecialTokens = { ...DEFAULT_SPECIAL_TOKENS };
    for (const [role, token] of Object.entries(options.specialTokens ?? {})) {
      if (token !== undefined) special[role as keyof SpecialTokens] = token;
    }
    this.specialTokens = Object.freeze(special);
    this.unkId = vocab.requireId(special.unk, ROLES.unk);
    this.sepId = vocab.requireId(special.sep, ROLES.sep);
    this.padId = vocab.requireId(special.pad, ROLES.pad);
    this.clsId = vocab.requireId(special.cls, ROLES.cls);
    this.maskId = vocab.id(special.mask);
    this.#special = { cls: this.clsId, sep: this.sepId, pad: this.padId };
    const present = Object.values(special).filter((t) => vocab.has(t));
    this.#specialIds = new Set(present.map((t) => vocab.id(t)!));
    // Longest first, so that a special token that contains another one wins.
    const alternatives = [...new Set(present)].sort((a, b) => b.length - a.length);
    this.#specialRe = alternatives.length === 0
      ? undefined
      : new RegExp(`(${alternatives.map(escapeRegExp).join("|")})`);
    this.basic = new BasicTokenizer({
      ...options,
      neverSplit: [...(options.neverSplit ?? []), ...present],
    });
    this.wordPiece = new WordPiece(vocab.ids, {
      unkToken: special.unk,
      continuingSubwordPrefix: options.continuingSubwordPrefix,
      maxInputCharsPerWord: options.maxInputCharsPerWord,
    });
    this.#ids = vocab.ids;
  }

  /**
   * A tokenizer over an in-memory vocabulary.
   *
   * @param tokens The tokens in id order; must include `[UNK]`, `[SEP]`, `[PAD]`, `[CLS]`.
   * @param options As for the constructor; `doLowerCase` defaults to false (cased).
   * @returns The tokenizer.
   * @throws {TypeError} When a required special token is missing.
   */
  static fromVocab(tokens: readonly string[], options: BertTokenizerOptions = {}): BertTokenizer {
    return new BertTokenizer(new Vocab(tokens), options);
  }

  /**
   * Loads a tokenizer from a Hugging Face model folder.
   *
   * Reads `vocab.txt`, or `tokenizer.json` when there is no `vocab.txt`. Lower-casing comes
   * from `options.doLowerCase`, else `tokenizer_config.json` (`do_lower_case`), else the
   * `tokenizer.json` normaliser, else the model name (`nameHint`, or the folder's name)
   * containing "uncased", else false. Special tokens and `strip_accents`,
   * `tokenize_chinese_chars` and `never_split` are read from the same files when present.
   *
   * @param path The folder.
   * @param options Overrides, and `nameHint` for the casing guess.
   * @returns The tokenizer.
   * @throws {Deno.errors.NotFound} When the folder has neither `vocab.txt` nor `tokenizer.json`.
   * @throws {TypeError} When the vocabulary lacks a required special token.
   * @throws {SyntaxError} When a JSON file cannot be parsed.
   */
  static async fromFolder(path: string, options: FromFolderOptions = {}): Promise<BertTokenizer> {
    const loaded = await loadFolder(path, options);
    return new BertTokenizer(loaded.vocab, loaded.options);
  }

  /** The number of token ids (V). */
  get vocabSize(): number {
    return this.vocab.size;
  }

  /** The sha-256 hex of the vocabulary tokens joined by `"\n"` (a feature-cache key). */
  get vocabHash(): string {
    return this.vocab.hash;
  }

  /** Whether text is lower-cased before WordPiece. */
  get doLowerCase(): boolean {
    return this.basic.doLowerCase;
  }

  /**
   * Splits text into WordPiece tokens (no `[CLS]`/`[SEP]` added).
   *
   * @param text Any string.
   * @returns The tokens.
   */
  tokenize(text: string): string[] {
    const tokens = this.vocab.tokens;
    return this.tokenizeToIds(text).map((id) => tokens[id]);
  }

  /**
   * Splits text into WordPiece token ids (no `[CLS]`/`[SEP]` added).
   *
   * @param text Any string.
   * @returns The ids.
   */
  tokenizeToIds(text: string): number[] {
    const out: number[] = [];
    const parts = this.#specialRe === undefined ? [text] : text.split(this.#specialRe);
    // With a capturing split, odd indices hold the special tokens themselves.
    for (let p = 0; p < parts.length; p++) {
      if (p % 2 === 1) {
        out.push(this.#ids.get(parts[p])!);
        continue;
      }
      if (parts[p] === "") continue;
      for (const word of this.basic.tokenize(parts[p])) {
        const ids = this.#wordIds(word);
        for (let i = 0; i < ids.length; i++) out.push(ids[i]);
      }
    }
    return out;
  }

  /**
   * {@linkcode tokenizeToIds} with the character span of every token in `text` (HF's offset
   * mapping), for answer extraction and span marking.
   *
   * @param text Any string.
   * @returns Ids and UTF-16 start/end offsets (end exclusive) of each token.
   */
  tokenizeWithOffsets(text: string): TokenOffsets {
    return tokenizeWithOffsets(this, text);
  }

  #wordIds(word: string): readonly number[] {
    let ids = this.#cache.get(word);
    if (ids === undefined) {
      // HF passes never-split words to the vocabulary whole, without WordPiece.
      ids = this.basic.neverSplit.has(word)
        ? [this.#ids.get(word) ?? this.unkId]
        : this.wordPiece.tokenize(word).map((piece) => this.#ids.get(piece)!);
      if (this.#cache.size >= CACHE_LIMIT) this.#cache.clear();
      this.#cache.set(word, ids);
    }
    return ids;
  }

  /**
   * Maps tokens to ids; tokens not in the vocabulary map to `[UNK]`, as in HF.
   *
   * @param tokens Tokens.
   * @returns Their ids.
   */
  convertTokensToIds(tokens: readonly string[]): number[] {
    return tokens.map((token) => this.#ids.get(token) ?? this.unkId);
  }

  /**
   * Maps ids to tokens.
   *
   * @param ids Token ids.
   * @returns Their tokens.
   * @throws {RangeError} When an id is not in 0…V−1.
   */
  convertIdsToTokens(ids: ArrayLike<number>): string[] {
    const out = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = this.#token(ids[i], i);
    return out;
  }

  #token(id: number, index: number): string {
    const token = this.vocab.tokens[id];
    if (token === undefined || !Number.isInteger(id)) {
      throw new RangeError(
        `Cannot convert id ${id} at index ${index} to a token: the vocabulary has ids 0 to ${
          this.vocab.size - 1
        }`,
      );
    }
    return token;
  }

  /**
   * Turns ids back into text: pieces are joined to their words (`"un ##want"` → `"unwant"`),
   * special tokens are dropped unless asked for, and HF's tokenization-space cleanup runs.
   * Lower-casing and stripped accents are not undone.
   *
   * @param ids Token ids.
   * @param options Whether to keep special tokens and to clean up spaces.
   * @returns The text.
   * @throws {RangeError} When an id is not in 0…V−1.
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      if (skip && this.#specialIds.has(ids[i])) continue;
      tokens.push(this.#token(ids[i], i));
    }
    const prefix = this.wordPiece.continuingSubwordPrefix;
    let text = tokens.join(" ");
    if (prefix !== "") text = text.replaceAll(` ${prefix}`, "");
    text = text.trim();
    if (options.cleanUpTokenizationSpaces ?? true) {
      for (const [from, to] of CLEANUPS) text = text.replaceAll(from, to);
    }
    return text;
  }

  /**
   * Encodes one example as `[CLS] A [SEP]` or `[CLS] A [SEP] B [SEP]`, truncated longest
   * first to `maxLength` (default 128) and padded only when `padToMaxLength` is set.
   *
   * @param textA The first text.
   * @param textB The second text of a pair.
   * @param options Maximum length and padding.
   * @returns Ids, token types and attention mask, each `[T]`.
   * @throws {RangeError} When `maxLength` cannot hold the special tokens.
   */
  encode(textA: string, textB?: string, options: EncodeOptions = {}): Encoding {
    const idsA = this.tokenizeToIds(textA);
    const idsB = textB === undefined ? undefined : this.tokenizeToIds(textB);
    return assembleEncoding({ a: idsA, b: idsB, special: this.#special }, options);
  }

  /**
   * Encodes many examples with the same options.
   *
   * @param inputs Texts or `[textA, textB]` pairs.
   * @param options Maximum length and padding.
   * @returns One encoding per input, in order.
   * @throws {RangeError} When `maxLength` cannot hold the special tokens.
   */
  encodeBatch(inputs: readonly TextInput[], options: EncodeOptions = {}): Encoding[] {
    const out = new Array<Encoding>(inputs.length);
    for (let i = 0; i < inputs.length; i++) {
      const input = inputs[i];
      out[i] = typeof input === "string"
        ? this.encode(input, undefined, options)
        : this.encode(input[0], input[1], options);
    }
    return out;
  }
}
