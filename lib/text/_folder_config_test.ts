import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { BertTokenizer } from "./tokenizer.ts";

const BASE_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "Hello", "!", "é"];

/** Makes a temporary model folder named `name` holding `files`, runs `fn`, removes it. */
async function withFolder<T>(
  name: string,
  files: Record<string, string | Uint8Array>,
  fn: (path: string) => Promise<T>,
): Promise<T> {
  const root = await Deno.makeTempDir({ prefix: "camtl_tok_" });
  const path = `${root}/${name}`;
  try {
    await Deno.mkdir(path);
    for (const [file, content] of Object.entries(files)) {
      if (typeof content === "string") await Deno.writeTextFile(`${path}/${file}`, content);
      else await Deno.writeFile(`${path}/${file}`, content);
    }
    return await fn(path);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const vocabTxt = (tokens: string[]) => tokens.join("\n") + "\n";

Deno.test("fromFolder() rejects a vocab.txt without [UNK] with a TypeError naming the file", async () => {
  const tokens = BASE_TOKENS.filter((t) => t !== "[UNK]");
  await withFolder("m", { "vocab.txt": vocabTxt(tokens) }, async (path) => {
    await assert.rejects(() => BertTokenizer.fromFolder(path), (error: Error) => {
      assert.ok(error instanceof TypeError);
      assert.ok(error.message.includes(`${path}/vocab.txt`), error.message);
      assert.match(error.message, /no unknown token "\[UNK\]"; add a line "\[UNK\]"/);
      return true;
    });
  });
});

Deno.test("fromFolder() takes the unknown token named in tokenizer_config.json", async () => {
  const tokens = ["[PAD]", "<unk>", "[CLS]", "[SEP]", "hello"];
  const config = JSON.stringify({ unk_token: { content: "<unk>", lstrip: false } });
  await withFolder(
    "m",
    { "vocab.txt": vocabTxt(tokens), "tokenizer_config.json": config },
    async (path) => {
      const tok = await BertTokenizer.fromFolder(path);
      assert.equal(tok.unkId, 1);
      assert.deepEqual(tok.tokenize("hello bye"), ["hello", "<unk>"]);
    },
  );
});

Deno.test("fromFolder() reads a CRLF vocab.txt exactly as the LF one", async () => {
  const crlf = BASE_TOKENS.join("\r\n"); // and no final line break
  await withFolder("m", { "vocab.txt": crlf }, async (path) => {
    const tok = await BertTokenizer.fromFolder(path);
    assert.equal(tok.vocabSize, BASE_TOKENS.length);
    assert.deepEqual(tok.convertIdsToTokens([5, 8]), ["hello", "é"]);
    assert.equal(tok.vocabHash, BertTokenizer.fromVocab(BASE_TOKENS).vocabHash);
    assert.deepEqual(tok.encode("Hello!").inputIds, [2, 6, 7, 3]);
  });
});

Deno.test("fromFolder() decides lower-casing: option, then config, then tokenizer.json, then name", async () => {
  const vocab = vocabTxt(BASE_TOKENS);
  const tokenizerJson = (lowercase: boolean) =>
    JSON.stringify({
      normalizer: { type: "BertNormalizer", lowercase, strip_accents: null },
      model: { type: "WordPiece", vocab: Object.fromEntries(BASE_TOKENS.map((t, i) => [t, i])) },
    });
  const cases: Array<[string, Record<string, string>, object, boolean]> = [
    ["bert-base-uncased-copy", { "vocab.txt": vocab }, {}, true],
    ["bert-base-cased-copy", { "vocab.txt": vocab }, {}, false],
    ["plain", { "vocab.txt": vocab }, {}, false],
    ["plain", { "vocab.txt": vocab }, { nameHint: "google/bert-base-uncased" }, true],
    ["x-uncased", { "vocab.txt": vocab, "tokenizer.json": tokenizerJson(false) }, {}, false],
    ["plain", { "vocab.txt": vocab, "tokenizer.json": tokenizerJson(true) }, {}, true],
    [
      "plain",
      {
        "vocab.txt": vocab,
        "tokenizer.json": tokenizerJson(true),
        "tokenizer_config.json": '{"do_lower_case": false}',
      },
      {},
      false,
    ],
    [
      "x-uncased",
      { "vocab.txt": vocab, "tokenizer_config.json": '{"do_lower_case": false}' },
      {},
      false,
    ],
    ["plain", { "vocab.txt": vocab, "tokenizer_config.json": '{"do_lower_case": true}' }, {
      doLowerCase: false,
    }, false],
  ];
  for (const [name, files, options, expected] of cases) {
    await withFolder(name, files, async (path) => {
      const tok = await BertTokenizer.fromFolder(path, options);
      const label = `${name} ${Object.keys(files).join(",")} ${JSON.stringify(options)}`;
      assert.equal(tok.doLowerCase, expected, label);
      assert.deepEqual(tok.tokenize("Hello"), [expected ? "hello" : "Hello"], label);
    });
  }
});

Deno.test("fromFolder() reads strip_accents and never_split from tokenizer_config.json", async () => {
  const config = JSON.stringify({
    do_lower_case: true,
    strip_accents: false,
    never_split: ["Hello!"],
  });
  await withFolder(
    "m",
    { "vocab.txt": vocabTxt(BASE_TOKENS), "tokenizer_config.json": config },
    async (path) => {
      const tok = await BertTokenizer.fromFolder(path);
      assert.equal(tok.basic.stripAccents, false);
      assert.deepEqual(tok.tokenize("É Hello!"), ["é", "[UNK]"]);
      assert.deepEqual(tok.tokenize("Hello! hello!"), ["[UNK]", "hello", "!"]);
    },
  );
});

Deno.test("fromFolder() without vocab.txt or tokenizer.json throws NotFound naming both", async () => {
  await withFolder("empty", {}, async (path) => {
    await assert.rejects(() => BertTokenizer.fromFolder(path), (error: Error) => {
      assert.ok(error instanceof Deno.errors.NotFound);
      assert.match(error.message, /neither "vocab\.txt" nor "tokenizer\.json"/);
      return true;
    });
  });
});

Deno.test({
  name: "fromFolder() with only tokenizer.json gives the ids of vocab.txt for bert-base-uncased",
  ignore: !hasData("bert-base-uncased/tokenizer.json") || !hasData("glue/SST-2/dev.tsv"),
  fn: async () => {
    const json = await Deno.readFile(dataPath("bert-base-uncased/tokenizer.json"));
    const fromTxt = await BertTokenizer.fromFolder(dataPath("bert-base-uncased"));
    const lines = (await Deno.readTextFile(dataPath("glue/SST-2/dev.tsv"))).split("\n").slice(1);
    const texts = [
      ...lines.filter((l) => l !== "").map((l) => l.split("\t")[0]),
      "UNwantéd,running 生活的真谛是 ah博推zz \u0000\ufffd",
    ];
    // The folder name carries no "uncased": casing must come from the normalizer.
    await withFolder("json-only", { "tokenizer.json": json }, async (path) => {
      const fromJson = await BertTokenizer.fromFolder(path);
      assert.equal(fromJson.doLowerCase, true);
      assert.equal(fromJson.vocabHash, fromTxt.vocabHash);
      for (const text of texts) {
        assert.deepEqual(fromJson.encode(text).inputIds, fromTxt.encode(text).inputIds, text);
      }
    });
  },
});

for (
  const [folder, size, lower] of [["tiny-bert-camphr-base", 1000, false], [
    "tiny-bert-camphr-ner",
    405,
    true,
  ]] as const
) {
  Deno.test({
    name: `fromFolder() loads the ${folder} vocabulary (${size} tokens, lower-case ${lower})`,
    ignore: !hasData(`${folder}/vocab.txt`),
    fn: async () => {
      const tok = await BertTokenizer.fromFolder(dataPath(folder));
      assert.equal(tok.vocabSize, size);
      // camphr-ner's config says do_lower_case although its vocab is cased; HF obeys it too.
      assert.equal(tok.doLowerCase, lower);
      assert.deepEqual([tok.padId, tok.unkId, tok.clsId, tok.sepId, tok.maskId], [
        0,
        100,
        101,
        102,
        103,
      ]);
      // These vocabularies hold single characters only, so longer words become [UNK].
      const e = tok.encode("a B (c)!", "Dogs #1");
      assert.ok(e.inputIds.every((id) => id >= 0 && id < size));
      assert.deepEqual(tok.convertIdsToTokens(e.inputIds), [
        "[CLS]",
        "a",
        lower ? "b" : "B",
        "(",
        "c",
        ")",
        "!",
        "[SEP]",
        "[UNK]",
        "#",
        "1",
        "[SEP]",
      ]);
      assert.deepEqual(e.tokenTypeIds, [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    },
  });
}
