import assert from "node:assert/strict";
import { BertTokenizer } from "../text/tokenizer.ts";
import { firstExamples } from "./feature_subset.ts";
import { buildSpanFeatures } from "./span_features.ts";
import { buildSuperGlueFeatures } from "./superglue_features.ts";
import { decodeOutputs, scoreTask } from "./task_outputs.ts";
import { buildTokenFeatures } from "./token_features.ts";

const tokenizer = BertTokenizer.fromVocab(
  ["[PAD]", "[UNK]", "[CLS]", "[SEP]", ".", "?", ..."a b c d e f g h he won who it".split(" ")],
  { doLowerCase: true },
);
const base = { tokenizer, taskId: 1, split: "dev", maxSeqLength: 12 };

Deno.test("firstExamples keeps whole questions of a span set, all their windows included", async () => {
  const context = "a b c d e f g h a b c d e f g h";
  const q = (id: string, text: string, start: number) => ({
    id,
    question: "who won ?",
    answers: [{ text, start }],
    golds: [text],
  });
  const set = await buildSpanFeatures([
    { line: 1, context, questions: [q("q0", "c d", 4), q("q1", "h", 30)] },
    { line: 2, context: "he won it", questions: [q("q2", "he", 0)] },
  ], { ...base, task: "squad", docStride: 4 });
  const owner = set.extras!.exampleIndex!;
  const windows0 = owner.filter((e) => e === 0).length;
  assert.ok(windows0 > 1, "the first question has several windows");
  const cut = firstExamples(set, 1);
  assert.equal(cut.size, windows0);
  assert.deepEqual(cut.meta!.ids, ["q0"]);
  assert.deepEqual(cut.meta!.golds, [["c d"]]);
  assert.equal(cut.inputIds.length, set.offsets[windows0]);
  assert.equal(cut.extras!.charStarts!.length, cut.inputIds.length);
  // Decoded and scored as the whole set is: the gold span's logits give the gold answer.
  const start = new Float32Array(cut.inputIds.length), end = new Float32Array(start.length);
  const s = cut.extras!.startPositions![0], e = cut.extras!.endPositions![0];
  start[cut.offsets[0] + s] = 5;
  end[cut.offsets[0] + e] = 5;
  const predictions = decodeOutputs(cut, {
    kind: "span-extraction",
    startLogits: start,
    endLogits: end,
  });
  assert.deepEqual(scoreTask(cut, predictions), { exact_match: 100, f1: 100 });
  assert.equal(firstExamples(set, 3), set, "a cap at or above the size keeps the set");
  assert.throws(() => firstExamples(set, 0), /Cannot keep 0 examples of "squad"/);
});

Deno.test("firstExamples cuts choices, labels, words and tags with their examples", async () => {
  const copa = await buildSuperGlueFeatures([
    { line: 1, idx: 0, textA: "he won .", textB: null, label: 1, choices: ["a", "b c"] },
    { line: 2, idx: 1, textA: "it won .", textB: null, label: 0, choices: ["d", "e"] },
  ], { ...base, task: "copa" });
  const one = firstExamples(copa, 1);
  assert.deepEqual([one.size, one.choices, one.offsets.length], [1, 2, 3]);
  assert.deepEqual(Array.from(one.labels!), [1]);
  assert.deepEqual(one.meta!.ids, [0]);
  const tags = await buildTokenFeatures([
    { line: 1, words: ["he", "won"], tags: ["B-person", "O"] },
    { line: 4, words: ["it"], tags: ["O"] },
  ], { ...base, task: "wnut17" });
  const first = firstExamples(tags, 1);
  assert.deepEqual([first.meta!.words, first.meta!.tags], [[["he", "won"]], [["B-person", "O"]]]);
  assert.equal(first.extras!.tokenLabels!.length, first.inputIds.length);
  assert.equal(first.inputIds.length, 4);
});
