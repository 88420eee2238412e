import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import {
  parseTokenizerJson,
  parseVocabText,
  readTokenizerJson,
  readVocabFile,
  Vocab,
  vocabHash,
} from "./vocab.ts";

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function withTempFile<T>(bytes: Uint8Array, fn: (path: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "camtl_vocab_" });
  try {
    const path = `${dir}/vocab.txt`;
    await Deno.writeFile(path, bytes);
    return await fn(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("parseVocabText() accepts LF, CRLF and CR line breaks and a missing final newline", () => {
  assert.deepEqual(parseVocabText("[PAD]\n[UNK]\nhi\n"), ["[PAD]", "[UNK]", "hi"]);
  assert.deepEqual(parseVocabText("[PAD]\r\n[UNK]\r\nhi\r\n"), ["[PAD]", "[UNK]", "hi"]);
  assert.deepEqual(parseVocabText("[PAD]\r[UNK]\rhi"), ["[PAD]", "[UNK]", "hi"]);
  assert.deepEqual(parseVocabText("[PAD]\n[UNK]\nhi"), ["[PAD]", "[UNK]", "hi"]);
  assert.deepEqual(parseVocabText(""), []);
});

Deno.test("parseVocabText() keeps tokens exactly, including NBSP tails, spaces and empty lines", () => {
  const tokens = parseVocabText("a\u00a0\n \n\n\tb \n\u3000\n");
  assert.deepEqual(tokens, ["a\u00a0", " ", "", "\tb ", "\u3000"]);
});

Deno.test("readVocabFile() reads a CRLF file with a byte-order mark and no final newline", async () => {
  const bytes = new TextEncoder().encode("\ufeff[PAD]\r\n[UNK]\r\nné\u00a0\r\nend");
  const vocab = await withTempFile(bytes, readVocabFile);
  assert.deepEqual(vocab.tokens, ["[PAD]", "[UNK]", "né\u00a0", "end"]);
  assert.equal(vocab.id("né\u00a0"), 2);
  assert.equal(vocab.id("né"), undefined);
  assert.match(vocab.source, /vocab\.txt$/);
});

Deno.test("readVocabFile() names the file when it is not UTF-8", async () => {
  await withTempFile(new Uint8Array([0x61, 0xff, 0x0a]), async (path) => {
    await assert.rejects(() => readVocabFile(path), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.ok(error.message.includes(path), error.message);
      return true;
    });
  });
});

Deno.test("Vocab maps a repeated token to its last id, as HF load_vocab does", () => {
  const vocab = new Vocab(["[UNK]", "x", "x"]);
  assert.equal(vocab.id("x"), 2);
  assert.equal(vocab.token(1), "x");
  assert.equal(vocab.size, 3);
});

Deno.test("Vocab.requireId() throws a TypeError naming the file and the fix", () => {
  const vocab = new Vocab(["[PAD]", "hello"], "/models/x/vocab.txt");
  assert.throws(() => vocab.requireId("[UNK]", { name: "unknown token", configKey: "unk_token" }), {
    name: "TypeError",
    message:
      /"\/models\/x\/vocab\.txt".*no unknown token "\[UNK\]".*add a line "\[UNK\]".*unk_token/,
  });
});

Deno.test("vocabHash() is the sha-256 hex of the tokens joined by newlines", async () => {
  assert.equal(
    vocabHash(["a", "b"]),
    "7e18f737311b2dc3b2f269dd78396b0351f14fb66efa879f768cb23181883c78",
  );
  const tokens = ["[PAD]", "né\u00a0", "😂", ""];
  assert.equal(
    vocabHash(tokens),
    await sha256Hex(new TextEncoder().encode(tokens.join("\n"))),
  );
  assert.notEqual(vocabHash(["a", "b"]), vocabHash(["b", "a"]));
});

Deno.test({
  name: "Vocab.hash of bert-base-uncased equals the sha-256 of vocab.txt without its final newline",
  ignore: !hasData("bert-base-uncased/vocab.txt"),
  fn: async () => {
    const path = dataPath("bert-base-uncased/vocab.txt");
    const bytes = await Deno.readFile(path);
    assert.equal(bytes.at(-1), 0x0a);
    const vocab = await readVocabFile(path);
    assert.equal(vocab.size, 30522);
    assert.equal(vocab.hash, await sha256Hex(bytes.slice(0, -1)));
  },
});

Deno.test({
  name: "readTokenizerJson() of bert-base-uncased gives the tokens of its vocab.txt",
  ignore: !hasData("bert-base-uncased/tokenizer.json"),
  fn: async () => {
    const fromJson = await readTokenizerJson(dataPath("bert-base-uncased/tokenizer.json"));
    const fromTxt = await readVocabFile(dataPath("bert-base-uncased/vocab.txt"));
    assert.deepEqual(fromJson.vocab.tokens, fromTxt.tokens);
    assert.equal(fromJson.vocab.hash, fromTxt.hash);
    assert.deepEqual(fromJson.normalizer, {
      lowercase: true,
      stripAccents: null,
      handleChineseChars: true,
      cleanText: true,
    });
    assert.equal(fromJson.unkToken, "[UNK]");
    assert.equal(fromJson.continuingSubwordPrefix, "##");
    assert.equal(fromJson.maxInputCharsPerWord, 100);
  },
});

Deno.test("parseTokenizerJson() reads normalizer switches inside a Sequence", () => {
  const json = {
    normalizer: {
      type: "Sequence",
      normalizers: [{ type: "NFD" }, { type: "Lowercase" }, { type: "StripAccents" }],
    },
    model: { type: "WordPiece", vocab: { "[UNK]": 0, "a": 1 } },
  };
  const parsed = parseTokenizerJson(json, "t.json");
  assert.deepEqual(parsed.normalizer, { lowercase: true, stripAccents: true });
  assert.deepEqual(parsed.vocab.tokens, ["[UNK]", "a"]);
});

Deno.test("parseTokenizerJson() appends added tokens missing from model.vocab", () => {
  const json = {
    added_tokens: [{ id: 2, content: "[NEW]" }, { id: 0, content: "[UNK]" }],
    model: { type: "WordPiece", vocab: { "[UNK]": 0, "a": 1 } },
  };
  assert.deepEqual(parseTokenizerJson(json, "t.json").vocab.tokens, ["[UNK]", "a", "[NEW]"]);
});

Deno.test("parseTokenizerJson() rejects gaps, clashing ids and non-WordPiece models", () => {
  const gap = { model: { vocab: { "[UNK]": 0, "a": 2 } } };
  assert.throws(() => parseTokenizerJson(gap, "t.json"), {
    name: "TypeError",
    message: /"t\.json".*no token with id 1/,
  });
  const clash = {
    added_tokens: [{ id: 1, content: "b" }],
    model: { vocab: { "[UNK]": 0, "a": 1 } },
  };
  assert.throws(() => parseTokenizerJson(clash, "t.json"), /id 1 is used by both "a" and "b"/);
  const bpe = { model: { type: "BPE", vocab: { a: 0 } } };
  assert.throws(() => parseTokenizerJson(bpe, "t.json"), /"model\.type" is "BPE"/);
  assert.throws(() => parseTokenizerJson({}, "t.json"), /no "model\.vocab"/);
});
