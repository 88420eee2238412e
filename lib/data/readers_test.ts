import assert from "node:assert/strict";
import { file, gzip, jsonl, rejectsData } from "./_reader_test_files.ts";
import { WNUT17_TAGS } from "./beyond_glue.ts";
import { readConllSentences, type TaggedSentence } from "./conll.ts";
import { readJsonLines } from "./jsonl.ts";
import { readLines } from "./lines.ts";
import { type QaParagraph, readMrqaFile, readSquadFile } from "./squad.ts";

const collect = <T>(it: AsyncIterable<T>): Promise<T[]> => Array.fromAsync(it);

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
