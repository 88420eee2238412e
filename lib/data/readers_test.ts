import assert from "node:assert/strict";
import { WNUT17_TAGS } from "./beyond_glue.ts";
import { readConllSentences, type TaggedSentence } from "./conll.ts";
import { DataError } from "./data_error.ts";
import { readJsonLines } from "./jsonl.ts";
import { readLines } from "./lines.ts";
import { type QaParagraph, readMrqaFile, readSquadFile } from "./squad.ts";
import {
  readSuperGlueExamples,
  type SuperGlueExample,
  type SuperGlueTaskName,
} from "./superglue.ts";

const dir = Deno.makeTempDirSync({ prefix: "camtl-readers-" });
globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));

async function file(name: string, content: string | Uint8Array): Promise<string> {
  const path = `${dir}/${name}`;
  if (typeof content === "string") await Deno.writeTextFile(path, content);
  else await Deno.writeFile(path, content);
  return path;
}
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

async function rejectsData(p: Promise<unknown>, pattern: RegExp, line?: number) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected a DataError, got ${err}`);
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes("\n"), "one line");
    if (line !== undefined) assert.equal(err.line, line);
    return true;
  });
}

const superglue = (task: SuperGlueTaskName, path: string): Promise<SuperGlueExample[]> =>
  collect(readSuperGlueExamples({ task, path }));

async function gzip(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream("gzip"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

Deno.test("readLines() reads gzip files by name and names a corrupt one", async () => {
  const text = "first\r\nsecond é\n\nlast";
  const plain = await collect(readLines(await file("a.txt", text), { chunkSize: 3 }));
  const gz = await collect(readLines(await file("a.txt.gz", await gzip(text))));
  assert.deepEqual(gz, plain);
  assert.deepEqual(plain.map((l) => l.text), ["first", "second é", "", "last"]);
  await rejectsData(
    collect(readLines(await file("bad.gz", "not gzip at all"))),
    /"[^"]*bad.gz": it is not a valid gzip file/,
  );
  await rejectsData(collect(readLines(await file("empty.jsonl", ""))), /the file is empty/);
});

Deno.test("readJsonLines() names the file and line of a malformed line", async () => {
  const path = await file("m.jsonl", '{"idx": 0}\n\n{"idx": 1,}\n');
  await rejectsData(
    collect(readJsonLines(path)),
    /m.jsonl" line 3: it is not valid JSON \(.*\); each line must hold one JSON object/,
    3,
  );
  await rejectsData(
    collect(readJsonLines(await file("n.jsonl", "[1, 2]\n"))),
    /line 1: it holds an array, but each line must hold one JSON object/,
  );
});

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

const tags = WNUT17_TAGS;
const conll = (path: string, bio?: "strict" | "repair"): Promise<TaggedSentence[]> =>
  collect(readConllSentences({ path, tags, bio, task: "wnut17" }));

Deno.test("the CoNLL reader splits sentences on blank or whitespace-only lines", async () => {
  const got = await conll(
    await file("a.conll", "@paul\tO\nNew\tB-location\nYork\tI-location\n\t\n\nhi\tO\n"),
  );
  assert.deepEqual(got, [
    { line: 1, words: ["@paul", "New", "York"], tags: ["O", "B-location", "I-location"] },
    { line: 6, words: ["hi"], tags: ["O"] },
  ]);
  const spaces = await conll(await file("b.conll", "EU NNP B-group\nrejects VBZ O"));
  assert.deepEqual(spaces[0].tags, ["B-group", "O"]);
  const untagged = await conll(await file("c.conll", "just\nwords\n\nhere\n"));
  assert.deepEqual(untagged.map((s) => s.tags), [null, null]);
});

Deno.test("the CoNLL reader rejects broken BIO strictly and repairs IOB1 on request", async () => {
  await rejectsData(
    conll(await file("d.conll", "a\tO\nb\tI-person\n")),
    /d.conll" line 2: tag "I-person" follows "O", but in BIO an entity starts with "B-"; write "B-person", or read the file with bio: "repair"/,
    2,
  );
  await rejectsData(
    conll(await file("e.conll", "a\tB-group\nb\tI-person\n")),
    /line 2: tag "I-person" follows "B-group"/,
  );
  await rejectsData(
    conll(await file("f.conll", "x\tO\n\nb\tI-person\n")),
    /line 3: tag "I-person" follows the sentence start/,
    3,
  );
  await rejectsData(
    conll(await file("g.conll", "a\tB-PER\n")),
    /line 1: tag "B-PER" is not one of the "wnut17" tags "O", "B-corporation"/,
  );
  await rejectsData(
    conll(await file("h.conll", "a\tO\nb\n")),
    /line 2: it has 1 column\(s\), but earlier lines have a tag column/,
  );
  await rejectsData(conll(await file("i.conll", "\n\t\n")), /the file has no tokens/);
  const repaired = await conll(
    await file("j.conll", "a\tI-person\nb\tI-person\nc\tI-group\n"),
    "repair",
  );
  assert.deepEqual(repaired[0].tags, ["B-person", "I-person", "B-group"]);
});

const squadDoc = (answerStart: number) => ({
  version: "1.1",
  data: [{
    title: "T",
    paragraphs: [{
      context: "Super Bowl 50 was won by the Denver Broncos.",
      qas: [{
        id: "q1",
        question: "Who won?",
        answers: [{ text: "Denver Broncos", answer_start: answerStart }, {
          text: "the Denver Broncos",
          answer_start: 25,
        }],
      }],
    }],
  }],
});

Deno.test("the SQuAD reader checks every answer against its context", async () => {
  const paragraphs = await readSquadFile(await file("squad.json", JSON.stringify(squadDoc(29))));
  assert.deepEqual(paragraphs[0].questions[0].golds, ["Denver Broncos", "the Denver Broncos"]);
  assert.deepEqual(paragraphs[0].questions[0].answers[0], { text: "Denver Broncos", start: 29 });
  await rejectsData(
    readSquadFile(await file("bad.json", JSON.stringify(squadDoc(28)))),
    /bad.json": answer "Denver Broncos" of question "q1" \(field "data\[0\].paragraphs\[0\].qas\[0\].answers\[0\]"\) is not in its context at answer_start 28 \(the context there reads " Denver Bronco"\); fix answer_start/,
  );
  const noId = squadDoc(29);
  delete (noId.data[0].paragraphs[0].qas[0] as Record<string, unknown>).id;
  await rejectsData(
    readSquadFile(await file("noid.json", JSON.stringify(noId))),
    /field "data\[0\].paragraphs\[0\].qas\[0\].id" is missing/,
  );
  await rejectsData(
    readSquadFile(await file("trunc.json", '{"data": [')),
    /trunc.json": it is not valid JSON/,
  );
});

Deno.test("the MRQA reader accepts spans that match after normalisation and names the rest", async () => {
  const context = "The American Football Conference (AFC) champion Denver Broncos defeated them.";
  const qa = (span: [number, number], text: string) => ({
    context,
    qas: [{
      qid: "abc",
      id: "q",
      question: "Who?",
      answers: ["Denver Broncos", "The Broncos"],
      detected_answers: [{ text, char_spans: [span] }],
    }],
  });
  const lines = [
    { header: { dataset: "SQuAD", split: "dev" } },
    qa([48, 61], "Denver Broncos"),
    qa([55, 61], "The Broncos"),
  ];
  const path = await file("mrqa.jsonl.gz", await gzip(jsonl(lines)));
  const got: QaParagraph[] = await collect(readMrqaFile(path));
  assert.equal(got.length, 2);
  assert.deepEqual(got[1].questions[0].answers, [{ text: "Broncos", start: 55 }]);
  assert.deepEqual(got[0].questions[0].golds, ["Denver Broncos", "The Broncos"]);
  assert.equal(got[0].questions[0].id, "abc");
  await rejectsData(
    collect(readMrqaFile(await file("m2.jsonl", jsonl([qa([40, 61], "Denver Broncos")])))),
    /m2.jsonl" line 1: answer "Denver Broncos" of question "abc" \(field "qas\[0\].detected_answers\[0\].char_spans\[0\]"\) is not in its context at \[40, 61\]/,
    1,
  );
  await rejectsData(
    collect(readMrqaFile(await file("m3.jsonl", jsonl([qa([70, 90], "x")])))),
    /is not in its context at \[70, 90\]/,
  );
  await rejectsData(
    collect(readMrqaFile(await file("m4.jsonl", '{"header": {}}\n'))),
    /the file has no contexts/,
  );
});
