/**
 * Character classes used by BERT's basic tokenizer, as bit flags per code point.
 *
 * The classes follow Hugging Face's Python `BasicTokenizer` (transformers
 * `models/bert/tokenization_bert.py`, helpers `_is_control`, `_is_whitespace`,
 * `_is_punctuation`, `_is_chinese_char`) and Python's `str.split()` for whitespace
 * splitting. ASCII code points use a precomputed table; other code points are classified
 * once with Unicode property escapes and remembered, so no regex runs per character in the
 * hot loop.
 *
 * @module
 */

/** Removed by text cleaning: NUL, U+FFFD and every `C*` category except tab, LF and CR. */
export const DROP = 1;
/** Separates words: Python `str.isspace()` (tab, LF, VT, FF, CR, U+001C–U+001F, U+0085, `Zs`, U+2028, U+2029). */
export const SPACE = 2;
/** A CJK ideograph that gets spaces around it (the ranges of HF `_is_chinese_char`). */
export const CJK = 4;
/** Punctuation: ASCII 33–47, 58–64, 91–96, 123–126, or Unicode category `P*`. */
export const PUNCT = 8;

const CONTROL_RE = /^\p{C}$/u;
const ZS_RE = /^\p{Zs}$/u;
const PUNCT_RE = /^\p{P}$/u;

/**
 * The CJK Unified Ideographs blocks and extensions, and the compatibility blocks, that HF
 * treats as Chinese characters. Hangul, kana and CJK punctuation are deliberately absent.
 */
const CJK_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b820, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

function isCjk(cp: number): boolean {
  for (const [lo, hi] of CJK_RANGES) if (cp >= lo && cp <= hi) return true;
  return false;
}

function isPythonSpace(cp: number): boolean {
  if (cp >= 0x09 && cp <= 0x0d) return true;
  if (cp >= 0x1c && cp <= 0x1f) return true;
  if (cp === 0x20 || cp === 0x85 || cp === 0x2028 || cp === 0x2029) return true;
  return ZS_RE.test(String.fromCodePoint(cp));
}

function computeFlags(cp: number): number {
  const ch = String.fromCodePoint(cp);
  let flags = 0;
  const tabLfCr = cp === 0x09 || cp === 0x0a || cp === 0x0d;
  if (cp === 0 || cp === 0xfffd || (!tabLfCr && CONTROL_RE.test(ch))) flags |= DROP;
  if (isPythonSpace(cp)) flags |= SPACE;
  if (isCjk(cp)) flags |= CJK;
  const asciiPunct = (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) ||
    (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  if (asciiPunct || PUNCT_RE.test(ch)) flags |= PUNCT;
  return flags;
}

const ASCII = new Uint8Array(128);
for (let cp = 0; cp < 128; cp++) ASCII[cp] = computeFlags(cp);

const memo = new Map<number, number>();

/**
 * The class flags of one code point (a bitwise OR of {@linkcode DROP}, {@linkcode SPACE},
 * {@linkcode CJK} and {@linkcode PUNCT}).
 *
 * @param cp A Unicode code point (a lone surrogate counts as category `Cs`).
 * @returns The flags; 0 for an ordinary word character.
 *
 * @example Classify a comma and a letter
 * ```ts
 * import assert from "node:assert/strict";
 * import { charFlags, PUNCT } from "./_char_class.ts";
 * assert.equal(charFlags(0x2c), PUNCT);
 * assert.equal(charFlags(0x61), 0);
 * ```
 */
export function charFlags(cp: number): number {
  if (cp < 128) return ASCII[cp];
  let flags = memo.get(cp);
  if (flags === undefined) {
    flags = computeFlags(cp);
    memo.set(cp, flags);
  }
  return flags;
}
