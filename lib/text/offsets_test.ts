import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { BertTokenizer } from "./tokenizer.ts";

const TRICKY = [
  "",
  "   ",
  "Hello, World! It's 1985.",
  "naïve Café ÉCOLE résumé",
  "ΣΑΣ ΟΔΟΣ İstanbul straße",
  "zero\u200bwidth soft\u00adhyphen ctrl\u0007char",
  "tabs\tand\nnewlines\r\nand\u00a0nbsp\u3000ideographic",
  "中文字符 mixed with 日本語 and 한국어",
  "emoji 😂🎉 and 𝒳 astral",
  "special [SEP] tokens[CLS]inside [MASK] and [UNK] [PAD]",
  "e\u0301 combining and a lone \u0301 mark",
  "supercalifragilisticexpialidocious".repeat(4),
  "don't won't y'all (a) [b] {c} <d> #hash @user http://t.co/x",
];

function normalise(tok: BertTokenizer, s: string): string {
  let t = [...s].filter((c) =>
    !/[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Cn}\ufffd]/u.test(c) || /[\t\n\r]/.test(c)
  )
    .join("");
  if (tok.doLowerCase) t = t.toLowerCase();
  if (tok.basic.stripAccents) t = t.normalize("NFD").replace(/\p{Mn}/gu, "");
  return t;
}

// Lower-casing a slice cannot see that a sigma ends its word.
const fold = (s: string) => s.replaceAll("ς", "σ");

function check(tok: BertTokenizer, text: string, what: string) {
  const got = tok.tokenizeWithOffsets(text);
  assert.deepEqual(got.ids, tok.tokenizeToIds(text), `${what}: ids differ from tokenizeToIds`);
  assert.equal(got.starts.length, got.ids.length);
  assert.equal(got.ends.length, got.ids.length);
  const prefix = tok.wordPiece.continuingSubwordPrefix;
  for (let i = 0; i < got.ids.length; i++) {
    const [s, e] = [got.starts[i], got.ends[i]];
    assert.ok(0 <= s && s < e && e <= text.length, `${what}: token ${i} span [${s}, ${e})`);
    if (i > 0) {
      assert.ok(s >= got.starts[i - 1], `${what}: token ${i} starts before token ${i - 1}`);
    }
    const piece = tok.vocab.tokens[got.ids[i]];
    if (got.ids[i] === tok.unkId) continue;
    if (/^\[[A-Z]+\]$/.test(piece)) {
      assert.equal(text.slice(s, e), piece, `${what}: special token ${i}`);
      continue;
    }
    // Pieces of one character (a Hangul syllable decomposed into jamo) share its span.
    let bare = "";
    for (let j = i; j < got.ids.length && got.starts[j] === s && got.ends[j] === e; j++) {
      const p = tok.vocab.tokens[got.ids[j]];
      bare += p.startsWith(prefix) ? p.slice(prefix.length) : p;
      if (j > i) i = j;
    }
    assert.equal(
      fold(normalise(tok, text.slice(s, e))),
      fold(bare),
      `${what}: token ${i} "${piece}" at [${s}, ${e})`,
    );
  }
}

Deno.test("tokenizeWithOffsets() gives tokenizeToIds' ids and each piece's characters", () => {
  const vocab = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    "hello",
    ",",
    "world",
    "!",
    "it",
    "'",
    "s",
    "19",
    "##85",
    ".",
    "naive",
    "cafe",
    "ecole",
    "resume",
    "the",
    "a",
    "##b",
    "b",
    "c",
    "##c",
    "e",
    "zero",
    "##width",
    "soft",
    "##hyphen",
    "中",
    "文",
    "Hello",
    "World",
    "It",
    "σ",
    "##ς",
    "##σ",
    "ς",
    "strasse",
    "stra",
    "##ße",
    "i",
    "##̇",
    "istanbul",
    "emoji",
    "and",
  ];
  for (const doLowerCase of [true, false]) {
    const tok = BertTokenizer.fromVocab(vocab, { doLowerCase });
    for (const text of TRICKY) {
      check(tok, text, `toy ${doLowerCase ? "uncased" : "cased"} ${JSON.stringify(text)}`);
    }
  }
  const tok = BertTokenizer.fromVocab(vocab, { doLowerCase: true });
  const { ids, starts, ends } = tok.tokenizeWithOffsets("Hello, [SEP]1985 hélloqq");
  assert.deepEqual(ids.map((i) => tok.vocab.tokens[i]), [
    "hello",
    ",",
    "[SEP]",
    "19",
    "##85",
    "[UNK]",
  ]);
  assert.deepEqual(starts, [0, 5, 7, 12, 14, 17]);
  assert.deepEqual(ends, [5, 6, 12, 14, 16, 24]);
});

Deno.test("tokenizeWithOffsets() matches tokenizeToIds on SQuAD dev and WNUT-2017 with real vocabularies", async () => {
  if (!hasData("squad_v1.1/dev-v1.1.json") || !hasData("bert-base-uncased")) return;
  const squad = JSON.parse(await Deno.readTextFile(dataPath("squad_v1.1/dev-v1.1.json")));
  const texts: string[] = [];
  for (const article of squad.data) {
    for (const p of article.paragraphs) {
      texts.push(p.context);
      for (const q of p.qas) texts.push(q.question);
    }
  }
  if (hasData("wnut17/emerging.dev.conll")) {
    const conll = await Deno.readTextFile(dataPath("wnut17/emerging.dev.conll"));
    texts.push(...conll.split("\n").map((l) => l.split("\t")[0]));
  }
  texts.push(...TRICKY);
  for (const model of ["bert-base-uncased", "bert-base-cased"]) {
    if (!hasData(model)) continue;
    const tok = await BertTokenizer.fromFolder(dataPath(model));
    for (const text of model.endsWith("uncased") ? texts : texts.filter((_, i) => i % 3 === 0)) {
      check(tok, text, `${model} ${JSON.stringify(text.slice(0, 40))}`);
    }
  }
});
