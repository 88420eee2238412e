/**
 * WordPiece tokens with their character spans in the original text, as the offset mapping of
 * Hugging Face's fast tokenizers gives them: what extractive question answering needs to turn a
 * predicted token span back into the exact answer text, and what span-marking tasks (WiC, WSC)
 * need to find the tokens of a word given by character offsets.
 *
 * The ids are exactly those of `BertTokenizer.tokenizeToIds` (a test checks this over real
 * corpora); the spans come from following each kept character through cleaning, lower-casing,
 * accent stripping and punctuation splitting. A piece covers the characters its letters came
 * from; a word that becomes `[UNK]` covers the whole word; characters dropped by cleaning belong
 * to no token. With `normalizeNfc` (off for BERT) a non-ASCII word's pieces all get the whole
 * word's span, because composition does not map characters one to one.
 *
 * @module
 */

import { charFlags, CJK, DROP, PUNCT, SPACE } from "./_char_class.ts";
import type { BertTokenizer } from "./tokenizer.ts";

/** WordPiece ids of a text and the character span of each, `[n]` each. */
export interface TokenOffsets {
  /** Token ids, as `tokenizeToIds` returns them. */
  ids: number[];
  /** UTF-16 index of the first character of each token in the text. */
  starts: number[];
  /** UTF-16 index one past the last character of each token. */
  ends: number[];
}

/** A run of normalised text with, per UTF-16 unit, the span of text it came from. */
interface Traced {
  text: string;
  from: Int32Array;
  to: Int32Array;
}

const MN_RE = /\p{Mn}/gu;

function hasNonAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return true;
  return false;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Applies `f` code point by code point, so every output unit keeps the span of the code point it
 * came from. The text is `f` of the whole input when that has the same length (it differs only
 * in context-dependent case mappings such as a final sigma), so the tokens stay those of the
 * word-level transform the tokenizer applies.
 */
function mapTraced(input: Traced, f: (s: string) => string): Traced {
  const parts: string[] = [];
  const from: number[] = [], to: number[] = [];
  for (let i = 0; i < input.text.length;) {
    const cp = input.text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const out = f(input.text.slice(i, i + width));
    parts.push(out);
    for (let k = 0; k < out.length; k++) {
      from.push(input.from[i]);
      to.push(input.to[i + width - 1]);
    }
    i += width;
  }
  const whole = f(input.text);
  const joined = parts.join("");
  return {
    text: whole.length === joined.length ? whole : joined,
    from: Int32Array.from(from),
    to: Int32Array.from(to),
  };
}

function slice(t: Traced, a: number, b: number): Traced {
  return { text: t.text.slice(a, b), from: t.from.subarray(a, b), to: t.to.subarray(a, b) };
}

/**
 * {@linkcode BertTokenizer.tokenizeToIds} with the character span of every token.
 *
 * @param tokenizer The tokenizer.
 * @param text Any string.
 * @returns Ids, start and end offsets (UTF-16 indices into `text`, end exclusive).
 *
 * @example The pieces of an accented, lower-cased word keep their original characters
 * ```ts
 * import assert from "node:assert/strict";
 * import { BertTokenizer } from "./tokenizer.ts";
 * import { tokenizeWithOffsets } from "./offsets.ts";
 * const tok = BertTokenizer.fromVocab(
 *   ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "cafe", "##s", "!"], { doLowerCase: true },
 * );
 * const { ids, starts, ends } = tokenizeWithOffsets(tok, " Cafés!");
 * assert.deepEqual(ids, [4, 5, 6]);
 * assert.deepEqual([starts, ends], [[1, 5, 6], [5, 6, 7]]);
 * ```
 */
export function tokenizeWithOffsets(tokenizer: BertTokenizer, text: string): TokenOffsets {
  const out: TokenOffsets = { ids: [], starts: [], ends: [] };
  const present = [...new Set(Object.values(tokenizer.specialTokens))]
    .filter((t) => tokenizer.vocab.has(t))
    .sort((a, b) => b.length - a.length);
  let at = 0;
  if (present.length > 0) {
    const re = new RegExp(present.map(escapeRegExp).join("|"), "g");
    for (const m of text.matchAll(re)) {
      scanPart(tokenizer, text, at, m.index, out);
      out.ids.push(tokenizer.vocab.ids.get(m[0])!);
      out.starts.push(m.index);
      out.ends.push(m.index + m[0].length);
      at = m.index + m[0].length;
    }
  }
  scanPart(tokenizer, text, at, text.length, out);
  return out;
}

/** The basic tokenizer's whitespace and CJK scan over `text[a, b)`, keeping positions. */
function scanPart(tok: BertTokenizer, text: string, a: number, b: number, out: TokenOffsets) {
  const { cleanText, tokenizeChineseChars } = tok.basic;
  let units: number[] = []; // indices of the kept UTF-16 units of the current word
  const flush = () => {
    if (units.length === 0) return;
    const word = units.map((i) => text[i]).join("");
    const from = Int32Array.from(units);
    splitWord(tok, { text: word, from, to: from.map((i) => i + 1) }, out);
    units = [];
  };
  for (let i = a; i < b;) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    const flags = charFlags(cp);
    if (flags !== 0 && cleanText && (flags & DROP) !== 0) {
      // dropped: the word goes on around it
    } else if ((flags & SPACE) !== 0 || (tokenizeChineseChars && (flags & CJK) !== 0)) {
      flush();
      if ((flags & SPACE) === 0) {
        for (let k = 0; k < width; k++) units.push(i + k);
        flush();
      }
    } else {
      for (let k = 0; k < width; k++) units.push(i + k);
    }
    i += width;
  }
  flush();
}

/** Casing, accents, never-split words and punctuation for one word, then WordPiece. */
function splitWord(tok: BertTokenizer, word: Traced, out: TokenOffsets) {
  const basic = tok.basic;
  if (basic.normalizeNfc && hasNonAscii(word.text)) {
    const n = word.text.normalize("NFC");
    const first = word.from[0], last = word.to[word.to.length - 1];
    word = {
      text: n,
      from: new Int32Array(n.length).fill(first),
      to: new Int32Array(n.length).fill(last),
    };
  }
  if (basic.neverSplit.has(word.text)) return pieces(tok, word, out);
  if (basic.doLowerCase) word = mapTraced(word, (s) => s.toLowerCase());
  if (basic.stripAccents && hasNonAscii(word.text)) {
    word = mapTraced(word, (s) => s.normalize("NFD").replace(MN_RE, ""));
  }
  if (basic.neverSplit.has(word.text)) return pieces(tok, word, out);
  let runStart = 0;
  for (let i = 0; i < word.text.length;) {
    const cp = word.text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if ((charFlags(cp) & PUNCT) !== 0) {
      if (i > runStart) pieces(tok, slice(word, runStart, i), out);
      pieces(tok, slice(word, i, i + width), out);
      runStart = i + width;
    }
    i += width;
  }
  if (runStart < word.text.length) pieces(tok, slice(word, runStart, word.text.length), out);
}

/**
 * WordPiece for one basic token (a never-split word is looked up whole, as the tokenizer does);
 * each piece covers the characters its letters came from, a single piece or `[UNK]` the token.
 */
function pieces(tok: BertTokenizer, word: Traced, out: TokenOffsets) {
  const n = word.text.length;
  if (n === 0) return;
  const ids = tok.vocab.ids;
  const whole = tok.basic.neverSplit.has(word.text);
  const list = whole ? [word.text] : tok.wordPiece.tokenize(word.text);
  if (list.length === 1) {
    out.ids.push(ids.get(list[0]) ?? tok.unkId);
    out.starts.push(word.from[0]);
    out.ends.push(word.to[n - 1]);
    return;
  }
  const prefix = tok.wordPiece.continuingSubwordPrefix;
  let pos = 0;
  for (let p = 0; p < list.length; p++) {
    const len = list[p].length - (p > 0 ? prefix.length : 0);
    out.ids.push(ids.get(list[p])!);
    out.starts.push(word.from[pos]);
    out.ends.push(word.to[pos + len - 1]);
    pos += len;
  }
}
