import assert from "node:assert/strict";
import { WordPiece } from "./wordpiece.ts";

const vocab = new Set([
  "[UNK]",
  "un",
  "unwant",
  "##want",
  "##ed",
  "##wanted",
  "a",
  "##a",
  "😂",
  "##😂",
]);
const wp = new WordPiece(vocab);

Deno.test("WordPiece takes the longest match at each position, left to right", () => {
  // "un ##wanted" also covers the word, but "unwant" is the longer first match.
  assert.deepEqual(wp.tokenize("unwanted"), ["unwant", "##ed"]);
  assert.deepEqual(wp.tokenize("un"), ["un"]);
  assert.deepEqual(wp.tokenize("aaa"), ["a", "##a", "##a"]);
});

Deno.test("WordPiece maps a word it cannot cover completely to a single [UNK]", () => {
  assert.deepEqual(wp.tokenize("unwantedx"), ["[UNK]"]);
  assert.deepEqual(wp.tokenize("wanted"), ["[UNK]"], "##-pieces never start a word");
  assert.deepEqual(wp.tokenize(""), []);
});

Deno.test("WordPiece maps a word of more than 100 code points to [UNK]", () => {
  assert.equal(wp.tokenize("a".repeat(100)).length, 100);
  assert.deepEqual(wp.tokenize("a".repeat(101)), ["[UNK]"]);
  // 100 emoji are 200 UTF-16 units but 100 code points, so they are still split.
  assert.equal(wp.tokenize("😂".repeat(100)).length, 100);
  assert.deepEqual(wp.tokenize("😂".repeat(101)), ["[UNK]"]);
  const short = new WordPiece(vocab, { maxInputCharsPerWord: 2 });
  assert.deepEqual(short.tokenize("aaa"), ["[UNK]"]);
});

Deno.test("WordPiece never splits a surrogate pair", () => {
  const loneHalves = new WordPiece(new Set(["[UNK]", "\ud83d", "##\ude02"]));
  assert.deepEqual(loneHalves.tokenize("😂"), ["[UNK]"]);
  assert.deepEqual(wp.tokenize("😂😂"), ["😂", "##😂"]);
});

Deno.test("WordPiece honours a custom unknown token and continuing prefix", () => {
  const custom = new WordPiece(new Set(["<unk>", "ab", "@@c"]), {
    unkToken: "<unk>",
    continuingSubwordPrefix: "@@",
  });
  assert.deepEqual(custom.tokenize("abc"), ["ab", "@@c"]);
  assert.deepEqual(custom.tokenize("abd"), ["<unk>"]);
});

Deno.test("WordPiece rejects a negative word-length limit", () => {
  assert.throws(() => new WordPiece(vocab, { maxInputCharsPerWord: -1 }), RangeError);
});
