import assert from "node:assert/strict";
import { BertTokenizer } from "../text/tokenizer.ts";
import { decodeFeatureCache, encodeFeatureCache, FEATURE_CACHE_VERSION } from "./cache_format.ts";
import { IGNORE_INDEX } from "./feature_extras.ts";
import type { FeatureSet } from "./features.ts";
import { collateBatch, collateIndices } from "./loader.ts";
import { bestAnswers } from "./span_answers.ts";
import { buildSpanFeatures, contextWindows } from "./span_features.ts";
import type { QaParagraph } from "./squad.ts";
import type { SuperGlueExample } from "./superglue.ts";
import { buildSuperGlueFeatures } from "./superglue_features.ts";
import { decodeOutputs, scoreTask, unpadTokenRows } from "./task_outputs.ts";
import { buildTokenFeatures, wordTags } from "./token_features.ts";

const WORDS =
  "the a new york ##er ##s loves pizza he she it was won by denver broncos super bowl 50 who did what";
const tokenizer = BertTokenizer.fromVocab(
  ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "?", ",", ...WORDS.split(" ")],
  { doLowerCase: true },
);
const id = (t: string) => tokenizer.vocab.ids.get(t)!;
const base = { tokenizer, taskId: 3, split: "dev", maxSeqLength: 32 };

function roundTrip(set: FeatureSet): FeatureSet {
  const back = decodeFeatureCache(encodeFeatureCache(set), { file: "mem", expected: set.key });
  assert.deepEqual(back.extras, set.extras);
  assert.deepEqual(back.meta, set.meta);
  assert.deepEqual([back.offsets, back.inputIds, back.labels], [
    set.offsets,
    set.inputIds,
    set.labels,
  ]);
  return back;
}

Deno.test("token features label the first piece of each word and ignore the rest", async () => {
  const sentences = [
    {
      line: 1,
      words: ["New", "Yorkers", "\u200b", "loves", "pizza"],
      tags: ["B-location", "I-location", "O", "O", "B-product"],
    },
    { line: 7, words: ["he"], tags: ["B-person"] },
  ];
  const set = await buildTokenFeatures(sentences, { ...base, task: "wnut17" });
  const t = (s: string) => s.split(" ").map(id);
  assert.deepEqual(Array.from(set.get(0).inputIds), t("[CLS] new york ##er ##s loves pizza [SEP]"));
  // B-location 7, I-location 8, O 0, B-product 11, B-person 9; the zero-width word has no token.
  assert.deepEqual(Array.from(set.extras!.tokenLabels!.subarray(0, 8)), [
    -100,
    7,
    8,
    -100,
    -100,
    0,
    11,
    -100,
  ]);
  assert.deepEqual(Array.from(set.extras!.tokenWords!.subarray(0, 8)), [-1, 0, 1, 1, 1, 3, 4, -1]);
  assert.equal(set.labels, null);
  assert.ok(set.labelled);
  assert.deepEqual(set.meta, {
    words: sentences.map((s) => s.words),
    tags: sentences.map((s) => s.tags),
  });
  roundTrip(set);
  // Predicting the gold tags back gives the gold words' tags, "O" for the word without a token.
  const preds = Array.from(set.extras!.tokenLabels!, (l) => l === IGNORE_INDEX ? 0 : l);
  assert.deepEqual(wordTags(set, preds), [["B-location", "I-location", "O", "O", "B-product"], [
    "B-person",
  ]]);
  const logits = new Float32Array(preds.length * 13);
  preds.forEach((p, i) => logits[i * 13 + p] = 1);
  const decoded = decodeOutputs(set, { kind: "token-classification", logits });
  assert.deepEqual(scoreTask(set, decoded), { precision: 1, recall: 1, f1: 1, accuracy: 1 });
  // Truncation keeps maxSeqLength - 2 tokens; cut words predict "O" and still count as gold.
  const short = await buildTokenFeatures(sentences, { ...base, task: "wnut17", maxSeqLength: 4 });
  assert.deepEqual(Array.from(short.get(0).inputIds), t("[CLS] new york [SEP]"));
  const cut = wordTags(short, Array.from(short.extras!.tokenLabels!, (l) => l < 0 ? 0 : l));
  assert.deepEqual(cut[0], ["B-location", "I-location", "O", "O", "O"]);
  const m = scoreTask(short, { kind: "token-classification", tags: cut });
  assert.deepEqual([m.precision, m.recall], [1, 2 / 3]);
  const untagged = await buildTokenFeatures([{ line: 1, words: ["he"], tags: null }], {
    ...base,
    task: "wnut17",
  });
  assert.equal(untagged.extras!.tokenLabels, undefined);
  assert.equal(untagged.labelled, false);
  await assert.rejects(
    () =>
      buildTokenFeatures([...sentences, { line: 9, words: ["a"], tags: null }], {
        ...base,
        task: "wnut17",
      }),
    /line 9: tagged and untagged sentences are mixed/,
  );
  await assert.rejects(
    () => buildTokenFeatures(sentences, { ...base, task: "cb" }),
    /Cannot build token-classification features of "cb": its head is "classification"/,
  );
});

Deno.test("context windows start every stride tokens until one reaches the end", () => {
  assert.deepEqual(contextWindows(10, 4, 3), [[0, 4], [3, 4], [6, 4]]);
  assert.deepEqual(
    contextWindows(10, 4, 8),
    [[0, 4], [4, 4], [8, 2]],
    "a stride above the window is cut to it",
  );
  assert.deepEqual(contextWindows(3, 4, 2), [[0, 3]]);
  assert.deepEqual(contextWindows(0, 4, 2), []);
});

const context = "super bowl 50 was won by the denver broncos . who did it ? he did , she did";
const paragraph = (answer: string, start: number): QaParagraph => ({
  line: 1,
  context,
  questions: [{
    id: "q1",
    question: "who won ?",
    answers: [{ text: answer, start }],
    golds: [answer, "broncos"],
  }],
});

Deno.test("span features window long contexts, mark max-context tokens and find the answer's tokens", async () => {
  // 19 context tokens; the question "who won ?" is 3.
  const set = await buildSpanFeatures([paragraph("denver broncos", 29)], {
    ...base,
    task: "squad",
    maxSeqLength: 14, // 14 - 3 question tokens - 3 specials = windows of 8
    docStride: 5,
  });
  const ctx = tokenizer.tokenizeWithOffsets(context);
  assert.deepEqual(contextWindows(ctx.ids.length, 8, 5), [[0, 8], [5, 8], [10, 8], [15, 4]]);
  assert.equal(set.size, 4);
  assert.deepEqual(Array.from(set.extras!.exampleIndex!), [0, 0, 0, 0]);
  const w1 = set.get(1);
  assert.deepEqual(Array.from(w1.inputIds), [
    id("[CLS]"),
    id("who"),
    id("won"),
    id("?"),
    id("[SEP]"),
    ...ctx.ids.slice(5, 13),
    id("[SEP]"),
  ]);
  assert.deepEqual(Array.from(w1.tokenTypeIds), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  // "denver broncos" are context tokens 7 and 8: inside windows 0 ([0, 8) holds 7 but not 8: no)
  // and 1 (positions 5 + (7 - 5) = 7 and 8).
  assert.deepEqual(Array.from(set.extras!.startPositions!), [0, 7, 0, 0]);
  assert.deepEqual(Array.from(set.extras!.endPositions!), [0, 8, 0, 0]);
  const a1 = set.offsets[1];
  assert.equal(
    context.slice(set.extras!.charStarts![a1 + 7], set.extras!.charEnds![a1 + 8]),
    "denver broncos",
  );
  assert.equal(set.extras!.charStarts![a1], -1, "[CLS] has no characters");
  // Token 6 is in windows 0 (3 left... min(6, 1)) and 1 (min(1, 6)): a tie goes to window 0;
  // token 7 has min(7, 0) in window 0 and min(2, 5) in window 1: window 1.
  const maxContext = (w: number, p: number) =>
    set.extras!.maxContext![set.offsets[w] + 4 + 1 + p - [0, 5, 10, 15][w]];
  assert.deepEqual([maxContext(0, 6), maxContext(1, 6), maxContext(0, 7), maxContext(1, 7)], [
    1,
    0,
    0,
    1,
  ]);
  roundTrip(set);
  assert.equal(set.key.docStride, 5);
  assert.equal(set.key.maxQueryLength, 64);
  // Logits that favour the gold span decode to it; a span past maxAnswerLength does not.
  const T = set.inputIds.length;
  const start = new Float32Array(T), end = new Float32Array(T);
  start[a1 + 7] = 5;
  end[a1 + 8] = 5;
  const [best] = bestAnswers(set, start, end);
  assert.deepEqual(best, { text: "denver broncos", score: 10, feature: 1, start: 7, end: 8 });
  assert.equal(
    bestAnswers(set, start, end, { maxAnswerLength: 1 })[0].text === "denver broncos",
    false,
  );
  const predictions = decodeOutputs(set, {
    kind: "span-extraction",
    startLogits: start,
    endLogits: end,
  });
  assert.deepEqual(scoreTask(set, predictions), { exact_match: 100, f1: 100 });
  // Only [CLS] and question tokens favoured: no valid span anywhere answers "".
  const cls = new Float32Array(T);
  for (let f = 0; f < set.size; f++) cls[set.offsets[f]] = 9;
  assert.equal(bestAnswers(set, cls, cls, { nBestSize: 1 })[0].text, "");
});

Deno.test("span features refuse settings that leave no room for the context", async () => {
  await assert.rejects(
    () =>
      buildSpanFeatures([paragraph("he", 58)], {
        ...base,
        task: "squad",
        maxSeqLength: 6,
      }),
    /maxSeqLength 6 leaves no room for the context after the 3 tokens of question "q1"/,
  );
  await assert.rejects(
    () => buildSpanFeatures([paragraph("he", 58)], { ...base, task: "squad", docStride: 0 }),
    /docStride is 0 and maxQueryLength 64; both must be positive integers/,
  );
});

const ex = (e: Partial<SuperGlueExample> & { textA: string }): SuperGlueExample => ({
  line: 1,
  idx: 0,
  textB: null,
  label: 1,
  ...e,
});

Deno.test("COPA features hold one sequence per choice, two batch rows per example", async () => {
  const examples = [
    ex({
      textA: "he won . what was the cause of this ?",
      choices: ["he did", "she did"],
      label: 0,
      idx: 0,
    }),
    ex({ textA: "it was won .", choices: ["a", "the broncos"], label: 1, idx: 1 }),
  ];
  const set = await buildSuperGlueFeatures(examples, { ...base, task: "copa" });
  assert.equal(set.size, 2);
  assert.equal(set.choices, 2);
  assert.equal(set.offsets.length, 5);
  assert.deepEqual(
    Array.from(set.get(1, 1).inputIds),
    ["[CLS]", "it", "was", "won", ".", "[SEP]", "the", "broncos", "[SEP]"].map(id),
  );
  assert.equal(set.length(1), 9, "the longer choice");
  const batch = collateIndices(set, [1, 0]);
  assert.equal(batch.size, 4);
  assert.deepEqual(Array.from(batch.exampleIds), [1, 1, 0, 0]);
  assert.deepEqual(Array.from(batch.tasks[0].rows), [0, 1, 2, 3]);
  assert.deepEqual(Array.from(batch.tasks[0].labels!), [1, 0]);
  assert.equal(batch.tasks[0].choices, 2);
  roundTrip(set);
  const predictions = decodeOutputs(set, { kind: "multiple-choice", logits: [0.1, 2, 3, -1] });
  assert.deepEqual(Array.from((predictions as { labels: Int32Array }).labels), [1, 0]);
  assert.deepEqual(scoreTask(set, predictions), { acc: 0 });
  assert.throws(() => set.get(0, 2), /choice 2/);
});

Deno.test("WiC and WSC features carry the marked spans' token positions", async () => {
  const wic = await buildSuperGlueFeatures([
    ex({
      textA: "new yorkers won",
      textB: "he loves pizza",
      spans: [{ segment: 0, start: 4, end: 11 }, { segment: 1, start: 3, end: 8 }],
    }),
  ], { ...base, task: "wic" });
  // [CLS] new york ##er ##s won [SEP] he loves pizza [SEP]
  assert.deepEqual(Array.from(wic.extras!.spans!), [2, 5, 8, 9]);
  assert.equal(wic.extras!.spanCount, 2);
  const batch = collateBatch([{ features: wic, index: 0 }]);
  assert.deepEqual(Array.from(batch.tasks[0].spans!), [2, 5, 8, 9]);
  roundTrip(wic);
  // Truncated away: the second sentence keeps one token, its span falls back to [CLS].
  const cut = await buildSuperGlueFeatures([
    ex({
      textA: "new yorkers won",
      textB: "he loves pizza",
      spans: [{ segment: 0, start: 0, end: 3 }, { segment: 1, start: 9, end: 14 }],
    }),
  ], { ...base, task: "wic", maxSeqLength: 6 });
  assert.deepEqual(Array.from(cut.extras!.spans!), [1, 2, 0, 1]);
  const wsc = await buildSuperGlueFeatures([
    ex({
      textA: "the broncos won , it did",
      spans: [{ segment: 0, start: 0, end: 11 }, { segment: 0, start: 17, end: 19 }],
    }),
  ], { ...base, task: "wsc" });
  assert.deepEqual(Array.from(wsc.extras!.spans!), [1, 3, 5, 6]);
  await assert.rejects(
    () => buildSuperGlueFeatures([ex({ textA: "a", textB: "b" })], { ...base, task: "wic" }),
    /it needs 2 marked spans/,
  );
});

Deno.test("MultiRC features keep question groups and passage ids for its metrics and submission", async () => {
  const mk = (q: number, a: number, label: number) =>
    ex({
      textA: "he won",
      textB: `who won ? ${a ? "he" : "she"}`,
      label,
      group: q,
      multirc: [0, q + 10, a],
      idx: 0,
    });
  const set = await buildSuperGlueFeatures([mk(0, 0, 0), mk(0, 1, 1), mk(1, 0, 1)], {
    ...base,
    task: "multirc",
  });
  assert.deepEqual(Array.from(set.extras!.groups!), [0, 0, 1]);
  assert.deepEqual(set.meta!.multirc, [[0, 10, 0], [0, 10, 1], [0, 11, 0]]);
  const preds = decodeOutputs(set, { kind: "classification", logits: [1, 0, 0, 1, 1, 0] });
  assert.deepEqual(scoreTask(set, preds), { em: 0.5, f1a: 2 / 3 });
  roundTrip(set);
});

Deno.test("token outputs of a padded batch go back to the set's flat layout", async () => {
  const set = await buildTokenFeatures([
    { line: 1, words: ["he", "won"], tags: null },
    { line: 3, words: ["new", "yorkers", "won"], tags: null },
  ], { ...base, task: "wnut17" });
  const batch = collateIndices(set, [1, 0]);
  const S = batch.seqLen;
  const values = Float32Array.from({ length: 2 * S * 2 }, (_, i) => i);
  const into = new Float32Array(set.inputIds.length * 2).fill(-1);
  unpadTokenRows(set, batch, values, into, 2);
  // Example 0 (4 tokens) was row 1: its values start at (1 · S) · 2.
  assert.deepEqual(Array.from(into.subarray(0, 8)), Array.from({ length: 8 }, (_, i) => 2 * S + i));
  assert.deepEqual(Array.from(into.subarray(8)), Array.from({ length: 14 }, (_, i) => i));
});

Deno.test("a version 1 feature cache is refused with the version in the message", async () => {
  const set = await buildSuperGlueFeatures([ex({ textA: "he won", textB: "she won" })], {
    ...base,
    task: "cb",
  });
  const bytes = encodeFeatureCache(set);
  new DataView(bytes.buffer).setUint32(8, 1, true);
  assert.throws(
    () => decodeFeatureCache(bytes, { file: "old.features" }),
    new RegExp(
      `Cannot use feature cache "old.features": it has format version 1, this code reads ${FEATURE_CACHE_VERSION}`,
    ),
  );
});
