import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { BertTokenizer } from "./tokenizer.ts";

const VECTORS = "tokenizer-test-vectors/transformers.js-bert-wordpiece.json";
const HF_CASES = new URL("./testdata/hf_slow_cases.json", import.meta.url);

interface VectorCase {
  name: string;
  text: string;
  text_pair?: string;
  /** Not present in the current file; honoured if a later extraction adds it. */
  max_length?: number;
  tokens: string[];
  ids: number[];
  decoded: string;
}

interface VectorFile {
  models: Record<string, { vocab: string; cases: VectorCase[] }>;
}

const TOY = [
  "[PAD]",
  "[UNK]",
  "[CLS]",
  "[SEP]",
  "[MASK]",
  "a",
  "b",
  "c",
  "d",
  "e",
  "f",
  "g",
  "h",
  "hello",
  "world",
  "!",
  ".",
  "'",
  "s",
  "t",
  "un",
  "##want",
  "##ed",
  "can",
];
const toy = BertTokenizer.fromVocab(TOY, { doLowerCase: true });

const vectorFile: VectorFile | undefined = hasData(VECTORS)
  ? JSON.parse(await Deno.readTextFile(dataPath(VECTORS)))
  : undefined;

for (const [model, { vocab, cases }] of Object.entries(vectorFile?.models ?? {})) {
  Deno.test({
    name: `BertTokenizer matches transformers.js vectors for ${model} (${cases.length} cases)`,
    ignore: !hasData(vocab),
    fn: async (t) => {
      // The vector file names the shared folder whose vocabulary each model uses; casing
      // comes from the folder as fromFolder decides it (uncased → tokenizer_config.json).
      const tok = await BertTokenizer.fromFolder(dataPath(vocab));
      assert.equal(tok.doLowerCase, vocab.includes("uncased"));
      for (const c of cases) {
        await t.step(c.name, () => {
          const tokens = tok.tokenize(c.text);
          if (c.text_pair !== undefined) tokens.push(...tok.tokenize(c.text_pair));
          assert.deepEqual(tokens, c.tokens);
          const e = tok.encode(c.text, c.text_pair, { maxLength: c.max_length ?? 512 });
          assert.deepEqual(e.inputIds, c.ids);
          const firstSep = c.ids.indexOf(tok.sepId);
          assert.deepEqual(e.tokenTypeIds, c.ids.map((_, i) => (i > firstSep ? 1 : 0)));
          assert.deepEqual(e.attentionMask, c.ids.map(() => 1));
          assert.equal(tok.decode(e.inputIds, { skipSpecialTokens: false }), c.decoded);
        });
      }
    },
  });
}
if (vectorFile === undefined) {
  Deno.test({ name: "BertTokenizer matches transformers.js vectors", ignore: true, fn() {} });
}

interface HfCases {
  texts: string[];
  runs: Array<{ vocab: string; doLowerCase: boolean; normalizeNfc: boolean; ids: string[] }>;
}

// Made by testdata/make_hf_cases.py from transformers' own slow tokenizer: 400 seeded texts of
// controls, odd whitespace, accents, combining marks, CJK, emoji, punctuation and specials.
const hfCases: HfCases = JSON.parse(await Deno.readTextFile(HF_CASES));
for (const run of hfCases.runs) {
  const label = `${run.vocab}, doLowerCase ${run.doLowerCase}, normalizeNfc ${run.normalizeNfc}`;
  Deno.test({
    name: `BertTokenizer gives HF slow BertTokenizer ids on adversarial texts (${label})`,
    ignore: !hasData(run.vocab),
    fn: async () => {
      const tok = await BertTokenizer.fromFolder(dataPath(run.vocab), {
        doLowerCase: run.doLowerCase,
        normalizeNfc: run.normalizeNfc,
      });
      const wrong = hfCases.texts.map((text, i) => [text, i] as const)
        .filter(([text, i]) => tok.tokenizeToIds(text).join(" ") !== run.ids[i]);
      assert.equal(wrong.length, 0, `first mismatch: ${JSON.stringify(wrong[0])}`);
    },
  });
}

Deno.test("BertTokenizer.encode() of a text pair gives token types 0 for A, 1 for B", () => {
  const e = toy.encode("Hello!", "world");
  assert.deepEqual(e.inputIds, [2, 13, 15, 3, 14, 3]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 1, 1]);
  assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 1]);
});

Deno.test("BertTokenizer.encode() truncates pairs longest first (hand-checked)", () => {
  // A has 5 tokens, B has 3; maxLength 8 leaves 5: A loses 2 (to 3), then the tie costs B 1.
  const e = toy.encode("a b c d e", "f g h", { maxLength: 8 });
  assert.deepEqual(toy.convertIdsToTokens(e.inputIds), [
    "[CLS]",
    "a",
    "b",
    "c",
    "[SEP]",
    "f",
    "g",
    "[SEP]",
  ]);
  // Equal lengths: B loses the first token, then they alternate.
  const tie = toy.encode("a b c", "d e f", { maxLength: 7 });
  assert.deepEqual(toy.convertIdsToTokens(tie.inputIds), [
    "[CLS]",
    "a",
    "b",
    "[SEP]",
    "d",
    "e",
    "[SEP]",
  ]);
  // B longer: only B shrinks until it is as long as A.
  const bLong = toy.encode("a", "b c d e f g", { maxLength: 7 });
  assert.deepEqual(toy.convertIdsToTokens(bLong.inputIds), [
    "[CLS]",
    "a",
    "[SEP]",
    "b",
    "c",
    "d",
    "[SEP]",
  ]);
});

Deno.test("BertTokenizer.encode() pads only with padToMaxLength, using [PAD] with mask 0 and type 0", () => {
  assert.equal(toy.encode("a b").inputIds.length, 4);
  const e = toy.encode("a", "b", { maxLength: 8, padToMaxLength: true });
  assert.deepEqual(e.inputIds, [2, 5, 3, 6, 3, 0, 0, 0]);
  assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 1, 1, 0, 0, 0]);
  assert.deepEqual(e.attentionMask, [1, 1, 1, 1, 1, 0, 0, 0]);
});

Deno.test("BertTokenizer.encode() defaults to maxLength 128", () => {
  const e = toy.encode("a ".repeat(500));
  assert.equal(e.inputIds.length, 128);
  assert.equal(e.inputIds.at(-1), toy.sepId);
});

Deno.test("BertTokenizer keeps special tokens written in the text whole", () => {
  assert.deepEqual(toy.tokenize("hello [SEP] world"), ["hello", "[SEP]", "world"]);
  assert.deepEqual(toy.tokenize("a[MASK]b"), ["a", "[MASK]", "b"]);
  // Matching is case-sensitive, as in HF: "[sep]" is two brackets and a word, none in TOY.
  assert.deepEqual(toy.tokenize("[sep]"), ["[UNK]", "[UNK]", "[UNK]"]);
});

Deno.test("BertTokenizer maps unknown words to [UNK] and splits known pieces", () => {
  assert.deepEqual(toy.tokenize("Unwanted can't zebra"), [
    "un",
    "##want",
    "##ed",
    "can",
    "'",
    "t",
    "[UNK]",
  ]);
});

Deno.test("BertTokenizer.decode() joins ## pieces, drops special tokens and cleans spaces", () => {
  const ids = toy.encode("Unwanted hello, can't world!", "hello.").inputIds;
  assert.equal(toy.decode(ids), "unwanted hello can't world! hello.");
  assert.equal(
    toy.decode(ids, { skipSpecialTokens: false }),
    "[CLS] unwanted hello [UNK] can't world! [SEP] hello. [SEP]",
  );
  assert.equal(
    toy.decode(ids, { cleanUpTokenizationSpaces: false }),
    "unwanted hello can ' t world ! hello .",
  );
});

Deno.test("BertTokenizer converts between tokens and ids, unknown tokens to [UNK]", () => {
  assert.deepEqual(toy.convertTokensToIds(["hello", "nope", "##want"]), [13, toy.unkId, 21]);
  assert.deepEqual(toy.convertIdsToTokens([13, 21]), ["hello", "##want"]);
  assert.throws(() => toy.convertIdsToTokens([13, TOY.length]), {
    name: "RangeError",
    message: /id 24 at index 1.*ids 0 to 23/,
  });
  assert.throws(() => toy.decode([-1]), RangeError);
});

Deno.test("BertTokenizer exposes its special ids, size and casing", () => {
  assert.deepEqual(
    [toy.padId, toy.unkId, toy.clsId, toy.sepId, toy.maskId, toy.vocabSize],
    [0, 1, 2, 3, 4, TOY.length],
  );
  assert.equal(toy.doLowerCase, true);
  assert.equal(BertTokenizer.fromVocab(TOY).doLowerCase, false);
  assert.match(toy.vocabHash, /^[0-9a-f]{64}$/);
  const noMask = BertTokenizer.fromVocab(TOY.filter((t) => t !== "[MASK]"));
  assert.equal(noMask.maskId, undefined);
});

Deno.test("BertTokenizer.fromVocab() without [CLS] throws a TypeError naming the fix", () => {
  assert.throws(() => BertTokenizer.fromVocab(["[PAD]", "[UNK]", "[SEP]"]), {
    name: "TypeError",
    message: /in-memory vocabulary.*no classification token "\[CLS\]".*cls_token/,
  });
  const custom = BertTokenizer.fromVocab(["<pad>", "<unk>", "<s>", "</s>", "x"], {
    specialTokens: { pad: "<pad>", unk: "<unk>", cls: "<s>", sep: "</s>" },
  });
  assert.deepEqual(custom.encode("x y").inputIds, [2, 4, 1, 3]);
});

Deno.test("BertTokenizer.encodeBatch() equals encode() per example, with the word cache warm", () => {
  const inputs = ["hello world", ["a b", "c"], "unwanted!", ["hello", undefined]] as const;
  for (let round = 0; round < 2; round++) {
    const batch = toy.encodeBatch(inputs, { maxLength: 6, padToMaxLength: true });
    assert.deepEqual(batch, [
      toy.encode("hello world", undefined, { maxLength: 6, padToMaxLength: true }),
      toy.encode("a b", "c", { maxLength: 6, padToMaxLength: true }),
      toy.encode("unwanted!", undefined, { maxLength: 6, padToMaxLength: true }),
      toy.encode("hello", undefined, { maxLength: 6, padToMaxLength: true }),
    ]);
    assert.deepEqual(batch[2].inputIds, [2, 20, 21, 22, 15, 3]);
  }
});
