/**
 * BERT's basic tokenizer: the step before WordPiece that cleans text, isolates CJK
 * ideographs, splits on whitespace, optionally lower-cases and strips accents, and splits
 * off punctuation.
 *
 * It behaves as Hugging Face's Python `BasicTokenizer` (transformers
 * `models/bert/tokenization_bert.py`), in this order:
 *
 * 1. clean: drop NUL, U+FFFD and control/format characters (`C*` except tab, LF, CR); map
 *    whitespace to a space;
 * 2. put spaces around CJK ideographs;
 * 3. (only with `normalizeNfc`, as transformers ≥ 4.30 does) NFC-normalise;
 * 4. split on whitespace;
 * 5. per word, unless it is in `neverSplit`: lower-case, then strip accents (NFD, drop
 *    `Mn`); accents are stripped when lower-casing unless `stripAccents` says otherwise;
 * 6. split every punctuation character off as its own token.
 *
 * @module
 */

import { charFlags, CJK, DROP, PUNCT, SPACE } from "./_char_class.ts";

/** Options of {@linkcode BasicTokenizer}; the defaults are those of a cased BERT. */
export interface BasicTokenizerOptions {
  /** Lower-case each word (HF `do_lower_case`). Default false. */
  doLowerCase?: boolean;
  /**
   * Strip accents (HF `strip_accents`): `true` or `false` sets it explicitly; `null` or
   * absent follows `doLowerCase`.
   */
  stripAccents?: boolean | null;
  /** Put spaces around CJK ideographs (HF `tokenize_chinese_chars`). Default true. */
  tokenizeChineseChars?: boolean;
  /** Drop control characters and map whitespace to spaces (HF `clean_text`). Default true. */
  cleanText?: boolean;
  /**
   * NFC-normalise after CJK spacing, as the Python `BasicTokenizer` of transformers ≥ 4.30
   * does. Default false: transformers 2.x (which CA-MTL used) and the Rust `tokenizers`
   * `BertNormalizer` do not.
   */
  normalizeNfc?: boolean;
  /** Words kept whole: neither lower-cased nor split on punctuation (HF `never_split`). */
  neverSplit?: Iterable<string>;
}

// Accent stripping drops nonspacing marks after canonical decomposition (HF `_run_strip_accents`).
const MN_RE = /\p{Mn}/gu;

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

/**
 * BERT's basic (pre-WordPiece) tokenizer.
 *
 * @example Lower-case, strip accents and split punctuation
 * ```ts
 * import assert from "node:assert/strict";
 * import { BasicTokenizer } from "./basic_tokenizer.ts";
 * const basic = new BasicTokenizer({ doLowerCase: true });
 * assert.deepEqual(basic.tokenize("UNwantéd,running"), ["unwanted", ",", "running"]);
 * ```
 */
export class BasicTokenizer {
  /** Whether words are lower-cased. */
  readonly doLowerCase: boolean;
  /** Whether accents are stripped (resolved from `stripAccents` and `doLowerCase`). */
  readonly stripAccents: boolean;
  /** Whether CJK ideographs are split into single-character words. */
  readonly tokenizeChineseChars: boolean;
  /** Whether control characters are dropped and whitespace normalised. */
  readonly cleanText: boolean;
  /** Whether text is NFC-normalised before whitespace splitting. */
  readonly normalizeNfc: boolean;
  /** Words that are never lower-cased or split. */
  readonly neverSplit: ReadonlySet<string>;

  /** @param options Casing and cleaning switches; see {@linkcode BasicTokenizerOptions}. */
  constructor(options: BasicTokenizerOptions = {}) {
    this.doLowerCase = options.doLowerCase ?? false;
    this.stripAccents = options.stripAccents ?? this.doLowerCase;
    this.tokenizeChineseChars = options.tokenizeChineseChars ?? true;
    this.cleanText = options.cleanText ?? true;
    this.normalizeNfc = options.normalizeNfc ?? false;
    this.neverSplit = new Set(options.neverSplit ?? []);
  }

  /**
   * Splits text into basic tokens (words and single punctuation characters).
   *
   * @param text Any string; lone surrogates count as control characters.
   * @returns The tokens in order; empty for blank text.
   */
  tokenize(text: string): string[] {
    const out: string[] = [];
    this.#scan(text, out);
    return out;
  }

  /** Steps 1, 2 and 4 in one pass over the code points; each word then goes to #splitWord. */
  #scan(text: string, out: string[]): void {
    const clean = this.cleanText;
    const cjk = this.tokenizeChineseChars;
    let wordStart = -1; // start of the current run of kept characters
    let word = ""; // the current word so far, when a dropped character interrupted it
    const n = text.length;
    for (let i = 0; i < n;) {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const flags = charFlags(cp);
      if (flags !== 0 && clean && (flags & DROP) !== 0) {
        if (wordStart >= 0) word += text.slice(wordStart, i);
        wordStart = -1;
      } else if ((flags & SPACE) !== 0 || (cjk && (flags & CJK) !== 0)) {
        if (wordStart >= 0) word += text.slice(wordStart, i);
        if (word !== "") this.#splitWord(word, out);
        word = "";
        wordStart = -1;
        if ((flags & SPACE) === 0) this.#splitWord(text.slice(i, i + width), out);
      } else if (wordStart < 0) {
        wordStart = i;
      }
      i += width;
    }
    if (wordStart >= 0) word += text.slice(wordStart);
    if (word !== "") this.#splitWord(word, out);
  }

  /** Steps 3, 5 and 6 for one whitespace-delimited word. */
  #splitWord(word: string, out: string[]): void {
    // NFC per word equals NFC of the whole spaced text: a space never composes with a mark.
    if (this.normalizeNfc && hasNonAscii(word)) word = word.normalize("NFC");
    if (this.neverSplit.has(word)) {
      out.push(word);
      return;
    }
    if (this.doLowerCase) word = word.toLowerCase();
    if (this.stripAccents && hasNonAscii(word)) word = word.normalize("NFD").replace(MN_RE, "");
    if (this.neverSplit.has(word)) {
      out.push(word);
      return;
    }
    let runStart = 0;
    const n = word.length;
    for (let i = 0; i < n;) {
      const cp = word.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      if ((charFlags(cp) & PUNCT) !== 0) {
        if (i > runStart) out.push(word.slice(runStart, i));
        out.push(word.slice(i, i + width));
        runStart = i + width;
      }
      i += width;
    }
    if (runStart < n) out.push(word.slice(runStart));
  }
}
