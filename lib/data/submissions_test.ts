import assert from "node:assert/strict";
import { BertTokenizer } from "../text/tokenizer.ts";
import { buildSpanFeatures } from "./span_features.ts";
import type { SuperGlueExample } from "./superglue.ts";
import { buildSuperGlueFeatures } from "./superglue_features.ts";
import {
  answerPredictionFileName,
  formatAnswerPredictions,
  formatSuperGluePredictions,
  formatTagPredictions,
  superGluePredictionFileName,
  writeAnswerPredictions,
  writeSuperGluePredictions,
  writeTagPredictions,
} from "./submissions.ts";
import { buildTokenFeatures } from "./token_features.ts";

const tokenizer = BertTokenizer.fromVocab(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"]);
const base = { tokenizer, taskId: 0, split: "test", maxSeqLength: 16 };
const pair = (idx: number | string, extra: Partial<SuperGlueExample> = {}): SuperGlueExample => ({
  line: 1,
  idx,
  textA: "a",
  textB: "b",
  label: null,
  ...extra,
});
const lines = (text: string) => text.trimEnd().split("\n").map((l) => JSON.parse(l));

Deno.test("SuperGLUE submissions write each task's labels as the leaderboard reads them", async () => {
  const sg = (task: string, examples: SuperGlueExample[]) =>
    buildSuperGlueFeatures(examples, { ...base, task });
  const boolq = await sg("boolq", [pair(0), pair(1)]);
  assert.equal(
    formatSuperGluePredictions(boolq, [1, 0]),
    '{"idx":0,"label":"true"}\n{"idx":1,"label":"false"}\n',
  );
  const span = (s: number) => ({ segment: 0 as const, start: s, end: s + 1 });
  const wsc = await sg("wsc", [pair(5, { textA: "a b", textB: null, spans: [span(0), span(2)] })]);
  assert.deepEqual(lines(formatSuperGluePredictions(wsc, [1])), [{ idx: 5, label: "True" }]);
  const wic = await sg("wic", [pair(2, { spans: [span(0), { segment: 1, start: 0, end: 1 }] })]);
  assert.deepEqual(lines(formatSuperGluePredictions(wic, [0])), [{ idx: 2, label: "false" }]);
  const copa = await sg("copa", [pair(7, { choices: ["a", "b"] })]);
  assert.deepEqual(lines(formatSuperGluePredictions(copa, [1])), [{ idx: 7, label: 1 }]);
  const cb = await sg("cb", [pair(0), pair(1), pair(2)]);
  assert.deepEqual(lines(formatSuperGluePredictions(cb, [0, 1, 2])).map((l) => l.label), [
    "contradiction",
    "entailment",
    "neutral",
  ]);
  const axb = await sg("ax-b", [pair("0"), pair("1")]);
  assert.deepEqual(lines(formatSuperGluePredictions(axb, [1, 0])), [
    { idx: 0, label: "not_entailment" },
    { idx: 1, label: "entailment" },
  ]);
  assert.throws(
    () => formatSuperGluePredictions(cb, [0, 3, 1]),
    /prediction 1 is 3, not a class index below 3/,
  );
  assert.throws(() => formatSuperGluePredictions(cb, [0]), /1 predictions for 3 examples/);
  assert.deepEqual(
    ["boolq", "superglue-rte", "ax-g", "multirc"].map(superGluePredictionFileName),
    ["BoolQ.jsonl", "RTE.jsonl", "AX-g.jsonl", "MultiRC.jsonl"],
  );
  assert.throws(() => superGluePredictionFileName("rte"), /"rte": it is not a SuperGLUE task/);
});

Deno.test("MultiRC submissions nest answers under questions under passages", async () => {
  const answer = (p: number, q: number, a: number, group: number) =>
    pair(p, { multirc: [p, q, a], group });
  const set = await buildSuperGlueFeatures(
    [answer(0, 0, 0, 0), answer(0, 0, 1, 0), answer(0, 1, 0, 1), answer(1, 2, 0, 2)],
    { ...base, task: "multirc" },
  );
  assert.deepEqual(lines(formatSuperGluePredictions(set, [1, 0, 0, 1])), [
    {
      idx: 0,
      passage: {
        questions: [
          { idx: 0, answers: [{ idx: 0, label: 1 }, { idx: 1, label: 0 }] },
          { idx: 1, answers: [{ idx: 0, label: 0 }] },
        ],
      },
    },
    { idx: 1, passage: { questions: [{ idx: 2, answers: [{ idx: 0, label: 1 }] }] } },
  ]);
});

Deno.test("SQuAD predictions map question ids to answers; CoNLL output lists token, gold, predicted", async () => {
  const qa = await buildSpanFeatures([{
    line: 1,
    context: "a b",
    questions: [
      { id: "56be4db0", question: "a", answers: [], golds: [] },
      { id: "56be4db1", question: "b", answers: [], golds: [] },
    ],
  }], { ...base, task: "squad" });
  assert.equal(
    formatAnswerPredictions(qa, ["a", ""]),
    '{\n  "56be4db0": "a",\n  "56be4db1": ""\n}\n',
  );
  assert.equal(answerPredictionFileName("mrqa-squad"), "predictions_mrqa-squad.json");
  assert.throws(() => formatAnswerPredictions(qa, ["a"]), /1 answers for 2 questions/);
  const ner = await buildTokenFeatures([
    { line: 1, words: ["a", "b"], tags: ["B-person", "O"] },
    { line: 4, words: ["b"], tags: ["O"] },
  ], { ...base, task: "wnut17" });
  const tags = [["B-person", "B-group"], ["O"]];
  assert.equal(
    formatTagPredictions(ner, tags),
    "a\tB-person\tB-person\nb\tO\tB-group\n\nb\tO\tO\n\n",
  );
  assert.throws(
    () => formatTagPredictions(ner, [["O"], ["O"]]),
    /sentence 0 has 2 words but 1 tags/,
  );
  const dir = await Deno.makeTempDir();
  try {
    await writeAnswerPredictions(`${dir}/${answerPredictionFileName("squad")}`, qa, ["a", "b"]);
    await writeTagPredictions(`${dir}/wnut17.conll`, ner, tags);
    const boolq = await buildSuperGlueFeatures([pair(0)], { ...base, task: "boolq" });
    await writeSuperGluePredictions(`${dir}/BoolQ.jsonl`, boolq, [1]);
    await assert.rejects(
      () => writeSuperGluePredictions(`${dir}/bad.jsonl`, boolq, [4]),
      RangeError,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
      "BoolQ.jsonl",
      "predictions_squad.json",
      "wnut17.conll",
    ]);
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/predictions_squad.json`)), {
      "56be4db0": "a",
      "56be4db1": "b",
    });
    assert.equal(await Deno.readTextFile(`${dir}/BoolQ.jsonl`), '{"idx":0,"label":"true"}\n');
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
