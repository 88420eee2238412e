import assert from "node:assert/strict";
import { file, jsonl, rejectsData } from "./_reader_test_files.ts";
import {
  readSuperGlueExamples,
  type SuperGlueExample,
  type SuperGlueTaskName,
} from "./superglue.ts";

const superglue = (task: SuperGlueTaskName, path: string): Promise<SuperGlueExample[]> =>
  Array.fromAsync(readSuperGlueExamples({ task, path }));

Deno.test("SuperGLUE readers give each task's texts, labels, choices, spans and groups", async () => {
  const boolq = await superglue(
    "boolq",
    await file(
      "boolq.jsonl",
      jsonl([
        { question: "is it", passage: "It is.", idx: 0, label: true },
        { question: "is it not", passage: "No.", idx: 1, label: false },
      ]),
    ),
  );
  assert.deepEqual(boolq.map((e) => [e.textA, e.textB, e.label]), [["is it", "It is.", 1], [
    "is it not",
    "No.",
    0,
  ]]);
  const cb = await superglue(
    "cb",
    await file("cb.jsonl", jsonl([{ premise: "P", hypothesis: "H", idx: 3 }])),
  );
  assert.deepEqual(cb, [{ line: 1, idx: 3, textA: "P", textB: "H", label: null }]);
  const copa = await superglue(
    "copa",
    await file(
      "copa.jsonl",
      jsonl([
        {
          premise: "The man fell.",
          choice1: "He slipped.",
          choice2: "He sang.",
          question: "cause",
          label: 0,
          idx: 0,
        },
        { premise: "It rained.", choice1: "A", choice2: "B", question: "effect", label: 1, idx: 1 },
      ]),
    ),
  );
  assert.equal(copa[0].textA, "The man fell. What was the cause of this?");
  assert.equal(copa[1].textA, "It rained. What happened as a result?");
  assert.deepEqual(copa[0].choices, ["He slipped.", "He sang."]);
  const wic = await superglue(
    "wic",
    await file(
      "wic.jsonl",
      jsonl([{
        word: "class",
        sentence1: "An emerging professional class.",
        sentence2: "It showed real class.",
        idx: 0,
        label: false,
        start1: 25,
        end1: 30,
        start2: 15,
        end2: 20,
      }]),
    ),
  );
  assert.deepEqual(wic[0].spans, [{ segment: 0, start: 25, end: 30 }, {
    segment: 1,
    start: 15,
    end: 20,
  }]);
  const text = "Mark told  Pete many lies about himself , which Pete included in his book .";
  const wsc = await superglue(
    "wsc",
    await file(
      "wsc.jsonl",
      jsonl([{
        text,
        target: { span1_index: 2, span1_text: "Pete", span2_index: 6, span2_text: "himself" },
        idx: 0,
        label: true,
      }]),
    ),
  );
  const [s1, s2] = wsc[0].spans!;
  assert.equal(text.slice(s1.start, s1.end), "Pete");
  assert.equal(text.slice(s2.start, s2.end), "himself");
  const multirc = await superglue(
    "multirc",
    await file(
      "multirc.jsonl",
      jsonl([
        {
          idx: 4,
          passage: {
            text: "Paragraph one.",
            questions: [
              {
                question: "Q0?",
                idx: 10,
                answers: [{ text: "a", idx: 0, label: 1 }, { text: "b", idx: 1, label: 0 }],
              },
              { question: "Q1?", idx: 11, answers: [{ text: "c", idx: 0, label: 0 }] },
            ],
          },
        },
        {
          idx: 5,
          passage: {
            text: "Two.",
            questions: [{ question: "Q2?", idx: 12, answers: [{ text: "d", idx: 0, label: 1 }] }],
          },
        },
      ]),
    ),
  );
  assert.deepEqual(multirc.map((e) => [e.textB, e.label, e.group, e.multirc]), [
    ["Q0? a", 1, 0, [4, 10, 0]],
    ["Q0? b", 0, 0, [4, 10, 1]],
    ["Q1? c", 0, 1, [4, 11, 0]],
    ["Q2? d", 1, 2, [5, 12, 0]],
  ]);
  const axg = await superglue(
    "ax-g",
    await file(
      "axg.jsonl",
      jsonl([
        {
          premise: "He left.",
          hypothesis: "Someone left.",
          idx: 0,
          label: "entailment",
          pair_id: 1,
        },
        {
          premise: "She left.",
          hypothesis: "Someone left.",
          idx: 1,
          label: "entailment",
          pair_id: 3,
        },
      ]),
    ),
  );
  assert.deepEqual(axg.map((e) => [e.group, e.label]), [[0, 0], [0, 0]]);
  const axb = await superglue(
    "ax-b",
    await file(
      "axb.jsonl",
      jsonl([{ idx: "7", sentence1: "a", sentence2: "b", label: "not_entailment" }]),
    ),
  );
  assert.deepEqual([axb[0].idx, axb[0].label], ["7", 1]);
});

Deno.test("SuperGLUE readers name file, line and field for every kind of bad row", async () => {
  const rte = (rows: unknown[]) => file("rte.jsonl", jsonl(rows));
  const row = { premise: "P", hypothesis: "H", idx: 0, label: "entailment" };
  await rejectsData(
    superglue("superglue-rte", await rte([row, { ...row, hypothesis: undefined }])),
    /rte.jsonl" line 2: field "hypothesis" is missing/,
    2,
  );
  await rejectsData(
    superglue("superglue-rte", await rte([{ ...row, label: "yes" }])),
    /line 1: field "label" is "yes", not one of the "superglue-rte" labels "entailment", "not_entailment"/,
  );
  await rejectsData(
    superglue("superglue-rte", await rte([{ ...row, premise: 3 }])),
    /field "premise" is number 3, expected a string/,
  );
  const { label: _, ...unlabelled } = row;
  await rejectsData(
    superglue("superglue-rte", await rte([row, unlabelled])),
    /line 2: field "label" is missing, but earlier rows have one/,
  );
  await rejectsData(
    superglue(
      "boolq",
      await file("b.jsonl", jsonl([{ question: "q", passage: "p", idx: 0, label: "true" }])),
    ),
    /field "label" is the string "true", expected true or false/,
  );
  const wic = {
    word: "w",
    sentence1: "abc",
    sentence2: "abcd",
    idx: 0,
    start1: 0,
    end1: 3,
    start2: 2,
    end2: 9,
  };
  await rejectsData(
    superglue("wic", await file("w.jsonl", jsonl([wic]))),
    /field "end2" makes the span \[2, 9\), which is not inside sentence2 \(4 characters\)/,
  );
  const wsc = {
    text: "a b c",
    target: { span1_index: 0, span1_text: "a", span2_index: 5, span2_text: "x" },
    idx: 0,
  };
  await rejectsData(
    superglue("wsc", await file("s.jsonl", jsonl([wsc]))),
    /field "target.span2_index" is 5, but the text has 3 words/,
  );
  const copa = { premise: "p", choice1: "a", choice2: "b", question: "why", idx: 0, label: 0 };
  await rejectsData(
    superglue("copa", await file("c.jsonl", jsonl([copa]))),
    /field "question" is "why", expected "cause" or "effect"/,
  );
  const mrc = {
    idx: 0,
    passage: {
      text: "t",
      questions: [{ question: "q", idx: 0, answers: [{ text: "a", idx: 0, label: 2 }] }],
    },
  };
  await rejectsData(
    superglue("multirc", await file("r.jsonl", jsonl([mrc]))),
    /field "passage.questions\[0\].answers\[0\].label" is 2, expected 0 or 1/,
  );
  const g = (premise: string, hypothesis: string) => ({
    premise,
    hypothesis,
    idx: 0,
    label: "entailment",
  });
  await rejectsData(
    superglue(
      "ax-g",
      await file("g.jsonl", jsonl([g("He ran.", "X ran."), g("She ran.", "Y ran.")])),
    ),
    /line 2: AX-g rows come in pairs that share a hypothesis/,
    2,
  );
  await rejectsData(
    superglue("ax-g", await file("g1.jsonl", jsonl([g("He ran.", "X ran.")]))),
    /the last row has no partner/,
  );
  await rejectsData(
    superglue("cb", await file("blank.jsonl", "\n\n")),
    /the file has no JSON rows/,
  );
});
