import assert from "node:assert/strict";
import { BasicTokenizer } from "./basic_tokenizer.ts";
import { charFlags, CJK, DROP, PUNCT, SPACE } from "./_char_class.ts";

const cased = new BasicTokenizer();
const uncased = new BasicTokenizer({ doLowerCase: true });

Deno.test("BasicTokenizer drops NUL, U+FFFD, control and format characters without splitting", () => {
  // U+0085 and U+0007 are Cc, U+200B and U+00AD are Cf: removed, so the pieces join up.
  assert.deepEqual(cased.tokenize("he\u0000llo wo\u200brld\u0085x a\u0007b\ufffdc soft\u00adly"), [
    "hello",
    "worldx",
    "abc",
    "softly",
  ]);
  assert.deepEqual(cased.tokenize("1\u00002\ufffd3"), ["123"]);
  assert.deepEqual(cased.tokenize("a\ud800b"), ["ab"], "a lone surrogate is Cs");
});

Deno.test("BasicTokenizer splits on tab, newline, NBSP, ideographic space and line separators", () => {
  assert.deepEqual(cased.tokenize(" \tx\ny\r\nz\u00a0w\u3000v\u2028u\u2029t\u202fs  "), [
    "x",
    "y",
    "z",
    "w",
    "v",
    "u",
    "t",
    "s",
  ]);
  assert.deepEqual(cased.tokenize(" \t\n"), []);
  assert.deepEqual(cased.tokenize(""), []);
});

Deno.test("BasicTokenizer keeps whitespace control characters when cleanText is off", () => {
  const raw = new BasicTokenizer({ cleanText: false });
  assert.deepEqual(raw.tokenize("a\u0000b c\u000bd"), ["a\u0000b", "c", "d"]);
});

Deno.test("BasicTokenizer puts spaces around CJK ideographs only", () => {
  assert.deepEqual(cased.tokenize("ah博推zz"), ["ah", "博", "推", "zz"]);
  assert.deepEqual(cased.tokenize("生活的真谛是"), ["生", "活", "的", "真", "谛", "是"]);
  // Extension B (a surrogate pair) and a compatibility ideograph count; kana and Hangul do not.
  assert.deepEqual(cased.tokenize("x\u{20000}y\uf900z"), ["x", "\u{20000}", "y", "\uf900", "z"]);
  assert.deepEqual(cased.tokenize("ひらがな한국어"), ["ひらがな한국어"]);
  const off = new BasicTokenizer({ tokenizeChineseChars: false });
  assert.deepEqual(off.tokenize("ah博推zz"), ["ah博推zz"]);
});

Deno.test("BasicTokenizer lower-cases and strips accents together unless told otherwise", () => {
  assert.deepEqual(uncased.tokenize(" \tHäLLo!how  \n Are yoU?  "), [
    "hallo",
    "!",
    "how",
    "are",
    "you",
    "?",
  ]);
  assert.deepEqual(uncased.tokenize("UNwantéd,running"), ["unwanted", ",", "running"]);
  assert.deepEqual(cased.tokenize("UNwantéd,running"), ["UNwantéd", ",", "running"]);
  const keepAccents = new BasicTokenizer({ doLowerCase: true, stripAccents: false });
  assert.deepEqual(keepAccents.tokenize("HäLLo"), ["hällo"]);
  const stripOnly = new BasicTokenizer({ doLowerCase: false, stripAccents: true });
  assert.deepEqual(stripOnly.tokenize("HäLLo Ñandú"), ["HaLLo", "Nandu"]);
  // A word made only of combining marks disappears.
  assert.deepEqual(uncased.tokenize("a \u0301\u0308 b"), ["a", "b"]);
});

Deno.test("BasicTokenizer splits off ASCII symbols and Unicode P* punctuation, one per token", () => {
  assert.deepEqual(cased.tokenize("can't...$5^`~"), [
    "can",
    "'",
    "t",
    ".",
    ".",
    ".",
    "$",
    "5",
    "^",
    "`",
    "~",
  ]);
  // ¿ « » … are P*; € ¥ are Sc outside the ASCII ranges, so they stay inside words.
  assert.deepEqual(cased.tokenize("¿«hi»… €4 ¥6"), ["¿", "«", "hi", "»", "…", "€4", "¥6"]);
  assert.deepEqual(cased.tokenize("weird ～ edge"), ["weird", "～", "edge"]);
  assert.deepEqual(cased.tokenize("a😂b"), ["a😂b"], "emoji are So, not punctuation");
});

Deno.test("BasicTokenizer keeps never-split words whole and in their case", () => {
  const basic = new BasicTokenizer({ doLowerCase: true, neverSplit: ["[CLS]", "Foo-Bar"] });
  assert.deepEqual(basic.tokenize("[CLS] Foo-Bar foo-bar [SEP]"), [
    "[CLS]",
    "Foo-Bar",
    "foo",
    "-",
    "bar",
    "[",
    "sep",
    "]",
  ]);
});

Deno.test("BasicTokenizer NFC-normalises only when normalizeNfc is set", () => {
  assert.deepEqual(cased.tokenize("cafe\u0301"), ["cafe\u0301"]);
  const nfc = new BasicTokenizer({ normalizeNfc: true });
  assert.deepEqual(nfc.tokenize("cafe\u0301 Å"), ["café", "Å"]);
});

Deno.test("charFlags() classifies the ASCII punctuation ranges and Unicode categories", () => {
  for (const ch of "!/:@[`{~") assert.equal(charFlags(ch.codePointAt(0)!), PUNCT, ch);
  for (const ch of "09AZaz") assert.equal(charFlags(ch.codePointAt(0)!), 0, ch);
  assert.equal(charFlags(0x09), SPACE);
  assert.equal(charFlags(0x0b), DROP | SPACE);
  assert.equal(charFlags(0x00a0), SPACE);
  assert.equal(charFlags(0x4e00), CJK);
  assert.equal(charFlags(0x3001), PUNCT, "ideographic comma is Po");
  assert.equal(charFlags(0x200d), DROP, "zero-width joiner is Cf");
  assert.equal(charFlags(0xfffd), DROP);
});
