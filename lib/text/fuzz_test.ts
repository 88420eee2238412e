/**
 * Seeded fuzzing of the tokenizer folder readers: `vocab.txt` (bytes) and `tokenizer.json`
 * (bytes and structure: huge or negative ids, wrong types), each loaded through
 * `BertTokenizer.fromFolder` and used once. Every case must load or end in the readers'
 * documented errors (`TypeError`, `SyntaxError`, `RangeError`) with a "Cannot …" message naming
 * the file.
 */
import assert from "node:assert/strict";
import { BertTokenizer } from "./tokenizer.ts";
import { fuzz, mutateBytes, mutateJsonText, ownError } from "../../tests/_util/fuzz.ts";
import type { Rng } from "../../tests/_util/rng.ts";

const SPECIALS = ["[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
const WORDS = ["the", "cat", "sat", "on", "mat", "##s", "##ed", "a", "dog", ",", ".", "über"];
const TOKENS = [...SPECIALS, ...WORDS];

function tokenizerJson(): string {
  return JSON.stringify({
    version: "1.0",
    added_tokens: SPECIALS.map((content, id) => ({ id, content, special: true })),
    normalizer: {
      type: "BertNormalizer",
      clean_text: true,
      handle_chinese_chars: true,
      strip_accents: null,
      lowercase: true,
    },
    model: {
      type: "WordPiece",
      unk_token: "[UNK]",
      continuing_subword_prefix: "##",
      max_input_chars_per_word: 100,
      vocab: Object.fromEntries(TOKENS.map((t, i) => [t, i])),
    },
  });
}

/** Loads the folder and encodes a sentence, so a loaded tokenizer is also a working one. */
async function load(dir: string): Promise<void> {
  const tokenizer = await BertTokenizer.fromFolder(dir);
  tokenizer.encode("The cats sat, über the mat.", "a dog", { maxLength: 16 });
}

const accept = (file: string) => ownError([TypeError, SyntaxError, RangeError], file);

/** Fuzzes one file of a tokenizer folder, loading the folder for every case. */
async function fuzzFolderFile(
  file: string,
  seed: number,
  mutate: (rng: Rng) => Uint8Array,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fuzz({
      name: file,
      seed,
      cases: 3000,
      make: (rng) => Deno.writeFile(`${dir}/${file}`, mutate(rng)),
      read: () => load(dir),
      accept: accept(`${dir}/${file}`),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("fuzz: vocab.txt loads into a working tokenizer or gives an error naming it", async () => {
  const original = new TextEncoder().encode(TOKENS.join("\n") + "\n");
  await fuzzFolderFile("vocab.txt", 21, (rng) => mutateBytes(original, rng));
});

Deno.test("fuzz: tokenizer.json loads into a working tokenizer or gives an error naming it", async () => {
  const text = tokenizerJson();
  await fuzzFolderFile("tokenizer.json", 22, (rng) => mutateJsonText(text, rng));
});

Deno.test("a tokenizer.json id of 2^31 is refused at once, not looped up to", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = JSON.parse(tokenizerJson());
    json.model.vocab["dog"] = 2 ** 31;
    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(json));
    const t0 = performance.now();
    await assert.rejects(
      load(dir),
      /^TypeError: Cannot read ".*tokenizer.json": "model.vocab" has no token with id/,
    );
    assert.ok(performance.now() - t0 < 1000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
