/**
 * WordPiece vocabularies: `vocab.txt` (one token per line, id = line index) and the
 * Hugging Face `tokenizer.json` format (a `WordPiece` model with a `BertNormalizer`).
 *
 * Tokens are kept exactly as written, including trailing no-break spaces and other unusual
 * whitespace; only the line break is removed. Line breaks may be LF, CRLF or CR (Python's
 * universal newlines, which HF's `load_vocab` reads with), and the last line may lack one.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { readJsonFile, readUtf8 } from "./_read_text.ts";

/**
 * An ordered WordPiece vocabulary: token ↔ id.
 *
 * @example Look tokens up
 * ```ts
 * import assert from "node:assert/strict";
 * import { Vocab } from "./vocab.ts";
 * const vocab = new Vocab(["[PAD]", "[UNK]", "hello"]);
 * assert.equal(vocab.id("hello"), 2);
 * assert.equal(vocab.token(1), "[UNK]");
 * assert.equal(vocab.size, 3);
 * ```
 */
export class Vocab {
  /** The tokens in id order. */
  readonly tokens: readonly string[];
  /** Where the vocabulary came from (a file path), for error messages. */
  readonly source: string;
  readonly #ids: Map<string, number>;
  #hash: string | undefined;

  /**
   * @param tokens The tokens in id order. A repeated token maps to its last id, as in HF.
   * @param source A file path or description used in error messages.
   */
  constructor(tokens: readonly string[], source = "in-memory vocabulary") {
    this.tokens = Object.freeze([...tokens]);
    this.source = source;
    this.#ids = new Map();
    for (let id = 0; id < tokens.length; id++) this.#ids.set(tokens[id], id);
  }

  /** The number of ids (V). */
  get size(): number {
    return this.tokens.length;
  }

  /** Token → id, for lookups in hot loops. */
  get ids(): ReadonlyMap<string, number> {
    return this.#ids;
  }

  /**
   * The sha-256 of the tokens joined by `"\n"`, as lower-case hex; a stable key for
   * feature caches.
   */
  get hash(): string {
    return this.#hash ??= vocabHash(this.tokens);
  }

  /** @returns The id of `token`, or `undefined` when it is not in the vocabulary. */
  id(token: string): number | undefined {
    return this.#ids.get(token);
  }

  /** @returns The token with id `id`, or `undefined` when `id` is out of range. */
  token(id: number): string | undefined {
    return this.tokens[id];
  }

  /** @returns Whether `token` is in the vocabulary. */
  has(token: string): boolean {
    return this.#ids.has(token);
  }

  /**
   * The id of a special token that the tokenizer cannot work without.
   *
   * @param token The token, e.g. `"[UNK]"`.
   * @param role What it is for, e.g. `"unknown token"`, and the config key naming it.
   * @returns Its id.
   * @throws {TypeError} When the vocabulary lacks it; the message names the file and the fix.
   */
  requireId(token: string, role: { name: string; configKey: string }): number {
    const id = this.#ids.get(token);
    if (id !== undefined) return id;
    throw new TypeError(
      `Cannot use vocabulary "${this.source}": it has no ${role.name} "${token}"; add a line ` +
        `"${token}" to it, or name the token it uses as "${role.configKey}" in ` +
        `tokenizer_config.json or in the "specialTokens" option`,
    );
  }
}

/**
 * The sha-256 of `tokens.join("\n")` (UTF-8) as lower-case hex.
 *
 * @param tokens The tokens in id order.
 * @returns 64 hex digits.
 *
 * @example Hash two tokens
 * ```ts
 * import assert from "node:assert/strict";
 * import { vocabHash } from "./vocab.ts";
 * assert.equal(vocabHash(["a", "b"]).slice(0, 8), "7e18f737");
 * ```
 */
export function vocabHash(tokens: readonly string[]): string {
  return createHash("sha256").update(tokens.join("\n"), "utf8").digest("hex");
}

/**
 * Splits the text of a `vocab.txt` into tokens: one per line, line breaks LF, CRLF or CR,
 * the final line break optional, everything else kept.
 *
 * @param text The file's text (a leading byte-order mark should already be removed).
 * @returns The tokens in id order.
 *
 * @example CRLF and no final newline
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVocabText } from "./vocab.ts";
 * assert.deepEqual(parseVocabText("[PAD]\r\n[UNK]\r\nhi"), ["[PAD]", "[UNK]", "hi"]);
 * ```
 */
export function parseVocabText(text: string): string[] {
  if (text === "") return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/**
 * Reads a `vocab.txt` (one token per line, id = line index).
 *
 * @param path The file.
 * @returns The vocabulary, with `source` = `path`.
 * @throws {Deno.errors.NotFound} When the file is missing.
 * @throws {TypeError} When it is not valid UTF-8.
 */
export async function readVocabFile(path: string): Promise<Vocab> {
  return new Vocab(parseVocabText(await readUtf8(path)), path);
}

/** The text-normalisation switches of a `tokenizer.json` `BertNormalizer`. */
export interface NormalizerSettings {
  /** `lowercase`. */
  lowercase?: boolean;
  /** `strip_accents`; `null` follows `lowercase`. */
  stripAccents?: boolean | null;
  /** `handle_chinese_chars`. */
  handleChineseChars?: boolean;
  /** `clean_text`. */
  cleanText?: boolean;
}

/** What this project uses from a Hugging Face `tokenizer.json`. */
export interface TokenizerJson {
  /** `model.vocab` (plus `added_tokens` that it lacks), in id order. */
  vocab: Vocab;
  /** The normaliser switches found; absent keys were not set in the file. */
  normalizer: NormalizerSettings;
  /** `model.unk_token`. */
  unkToken?: string;
  /** `model.continuing_subword_prefix`. */
  continuingSubwordPrefix?: string;
  /** `model.max_input_chars_per_word`. */
  maxInputCharsPerWord?: number;
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readNormalizer(node: unknown, into: NormalizerSettings): void {
  if (!isObject(node)) return;
  switch (node.type) {
    case "BertNormalizer":
      if (typeof node.lowercase === "boolean") into.lowercase = node.lowercase;
      if (typeof node.strip_accents === "boolean" || node.strip_accents === null) {
        into.stripAccents = node.strip_accents;
      }
      if (typeof node.handle_chinese_chars === "boolean") {
        into.handleChineseChars = node.handle_chinese_chars;
      }
      if (typeof node.clean_text === "boolean") into.cleanText = node.clean_text;
      break;
    case "Lowercase":
      into.lowercase = true;
      break;
    case "StripAccents":
      into.stripAccents = true;
      break;
    case "Sequence":
      if (Array.isArray(node.normalizers)) {
        for (const child of node.normalizers) readNormalizer(child, into);
      }
      break;
  }
}

/**
 * Extracts the WordPiece vocabulary and normaliser settings from a parsed `tokenizer.json`.
 * Normalisers other than `BertNormalizer`, `Lowercase`, `StripAccents` and `Sequence` are
 * ignored.
 *
 * @param json The parsed file.
 * @param source The file path, for error messages.
 * @returns The vocabulary and settings.
 * @throws {TypeError} When the model is not WordPiece or its ids are not 0…V−1 without gaps.
 */
export function parseTokenizerJson(json: unknown, source: string): TokenizerJson {
  const root: Json = isObject(json) ? json : {};
  const model = root.model;
  if (!isObject(model) || !isObject(model.vocab)) {
    throw new TypeError(`Cannot read "${source}": it has no "model.vocab" object`);
  }
  if (model.type !== undefined && model.type !== "WordPiece") {
    throw new TypeError(
      `Cannot read "${source}": "model.type" is "${model.type}", expected "WordPiece"`,
    );
  }
  // A map, not an array: a huge id in a damaged file must not size an array (or a loop).
  const tokenOf = new Map<number, string>();
  const place = (token: string, id: unknown, where: string) => {
    if (!Number.isInteger(id) || (id as number) < 0) {
      throw new TypeError(`Cannot read "${source}": ${where} "${token}" has id ${id}`);
    }
    const slot = tokenOf.get(id as number);
    if (slot !== undefined && slot !== token) {
      throw new TypeError(
        `Cannot read "${source}": id ${id} is used by both "${slot}" and "${token}"`,
      );
    }
    tokenOf.set(id as number, token);
  };
  for (const [token, id] of Object.entries(model.vocab)) place(token, id, "vocab token");
  if (Array.isArray(root.added_tokens)) {
    for (const added of root.added_tokens) {
      if (isObject(added) && typeof added.content === "string") {
        place(added.content, added.id, "added token");
      }
    }
  }
  const byId: string[] = new Array(tokenOf.size);
  for (let id = 0; id < tokenOf.size; id++) {
    const token = tokenOf.get(id);
    if (token === undefined) {
      throw new TypeError(`Cannot read "${source}": "model.vocab" has no token with id ${id}`);
    }
    byId[id] = token;
  }
  const normalizer: NormalizerSettings = {};
  readNormalizer(root.normalizer, normalizer);
  const result: TokenizerJson = { vocab: new Vocab(byId, source), normalizer };
  if (typeof model.unk_token === "string") result.unkToken = model.unk_token;
  if (typeof model.continuing_subword_prefix === "string") {
    result.continuingSubwordPrefix = model.continuing_subword_prefix;
  }
  const maxChars = model.max_input_chars_per_word;
  if (maxChars !== undefined) {
    if (!Number.isSafeInteger(maxChars) || (maxChars as number) < 0) {
      throw new TypeError(
        `Cannot read "${source}": "model.max_input_chars_per_word" is ` +
          `${JSON.stringify(maxChars)}, expected an integer ≥ 0`,
      );
    }
    result.maxInputCharsPerWord = maxChars as number;
  }
  return result;
}

/**
 * Reads a Hugging Face `tokenizer.json` with a WordPiece model.
 *
 * @param path The file.
 * @returns The vocabulary (with `source` = `path`) and settings.
 * @throws {Deno.errors.NotFound} When the file is missing.
 * @throws {SyntaxError} When it is not JSON.
 * @throws {TypeError} As {@linkcode parseTokenizerJson}.
 */
export async function readTokenizerJson(path: string): Promise<TokenizerJson> {
  return parseTokenizerJson(await readJsonFile(path), path);
}
