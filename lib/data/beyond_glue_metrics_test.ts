import assert from "node:assert/strict";
import { matthewsCorrelation } from "./metrics.ts";
import { bioEntities, entityMetrics } from "./ner_metrics.ts";
import { answerExactMatch, answerF1, normalizeAnswer, squadMetrics } from "./squad_metrics.ts";
import {
  axgMetrics,
  cbMetrics,
  genderParity,
  macroF1,
  multircMetrics,
} from "./superglue_metrics.ts";
import { taskMetrics } from "./tasks.ts";
import { WNUT17_TAGS } from "./beyond_glue.ts";

interface Fixture {
  squad: { name: string; prediction: string; golds: string[]; em: number; f1: number }[];
  squad_total: {
    predictions: (string | null)[];
    golds: string[][];
    exact_match: number;
    f1: number;
  };
  ner: {
    name: string;
    predicted: string[][];
    gold: string[][];
    precision: number;
    recall: number;
    f1: number;
    accuracy: number;
  }[];
  multirc: {
    name: string;
    preds: number[];
    labels: number[];
    groups: number[];
    em: number;
    f1a: number;
  }[];
  axg: {
    name: string;
    preds: number[];
    labels: number[];
    groups: number[];
    acc: number;
    gender_parity: number;
  }[];
  axb: { name: string; preds: number[]; labels: number[]; mcc: number }[];
  cb: {
    name: string;
    preds: number[];
    labels: number[];
    acc: number;
    f1: number;
    acc_and_f1: number;
  }[];
}

const fixture: Fixture = JSON.parse(
  await Deno.readTextFile(
    new URL("../../tests/fixtures/beyond_glue_metrics_fixture.json", import.meta.url),
  ),
);

function close(actual: number, expected: number, what: string) {
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 * Math.max(1, Math.abs(expected)),
    `${what}: got ${actual}, the Python definition gave ${expected}`,
  );
}

Deno.test("SQuAD exact match and F1 match the official definitions, case by case and in total", () => {
  assert.ok(fixture.squad.length >= 12);
  for (const c of fixture.squad) {
    const em = Math.max(...c.golds.map((g) => answerExactMatch(c.prediction, g)));
    const f1 = Math.max(...c.golds.map((g) => answerF1(c.prediction, g)));
    close(em, c.em, `${c.name}: exact match`);
    close(f1, c.f1, `${c.name}: F1`);
    const one = squadMetrics([c.prediction], [c.golds]);
    close(one.exact_match, 100 * c.em, `${c.name}: squadMetrics exact_match`);
    close(one.f1, 100 * c.f1, `${c.name}: squadMetrics f1`);
  }
  const t = fixture.squad_total;
  assert.ok(t.predictions.includes(null), "an unanswered question is part of the total");
  const m = squadMetrics(t.predictions, t.golds);
  close(m.exact_match, t.exact_match, "total exact_match");
  close(m.f1, t.f1, "total f1");
  assert.equal(normalizeAnswer("  The  Denver\u00a0Broncos! "), "denver broncos");
  assert.throws(() => squadMetrics([], []), RangeError);
});

Deno.test("entity precision, recall and F1 match conlleval's rules on the edge cases", () => {
  const names = fixture.ner.map((c) => c.name).join("|");
  for (
    const edge of [
      "empty predictions",
      "no entities at all",
      "adjacent",
      "B- after B-",
      "I- starting",
    ]
  ) {
    assert.ok(names.includes(edge), `fixture has a case "${edge}"`);
  }
  for (const c of fixture.ner) {
    const m = entityMetrics(c.predicted, c.gold);
    close(m.precision, c.precision, `${c.name}: precision`);
    close(m.recall, c.recall, `${c.name}: recall`);
    close(m.f1, c.f1, `${c.name}: f1`);
    close(m.accuracy, c.accuracy, `${c.name}: accuracy`);
  }
  assert.deepEqual(
    bioEntities(["B-x", "B-x", "I-y", "O", "I-x"]).map((e) => [e.type, e.start, e.end]),
    [
      ["x", 0, 1],
      ["x", 1, 2],
      ["y", 2, 3],
      ["x", 4, 5],
    ],
  );
  assert.throws(
    () => entityMetrics([["O"]], [["O", "O"]]),
    /sentence 0 has 1 predicted tags but 2/,
  );
});

Deno.test("wnut17's registry metrics score tag indices per word, sentence by sentence", () => {
  const c = fixture.ner.find((x) => x.name === "entity at a sentence boundary")!;
  const tagIds = (sentences: string[][]) => sentences.flat().map((t) => WNUT17_TAGS.indexOf(t));
  const groups = c.gold.flatMap((s, i) => s.map(() => i));
  // The fixture's types are person/location/group, all WNUT-2017 types.
  const m = taskMetrics("wnut17", tagIds(c.predicted), tagIds(c.gold), groups);
  close(m.f1, c.f1, "wnut17 f1");
  assert.throws(() => taskMetrics("wnut17", [0], [0]), /sentence numbers/);
});

Deno.test("MultiRC F1a and exact match, AX-g parity, AX-b MCC and CB macro F1 match their definitions", () => {
  for (const c of fixture.multirc) {
    const m = multircMetrics(c.preds, c.labels, c.groups);
    close(m.em, c.em, `${c.name}: em`);
    close(m.f1a, c.f1a, `${c.name}: f1a`);
    assert.deepEqual(taskMetrics("multirc", c.preds, c.labels, c.groups), m);
  }
  for (const c of fixture.axg) {
    const m = axgMetrics(c.preds, c.labels, c.groups);
    close(m.acc, c.acc, `${c.name}: acc`);
    close(m.gender_parity, c.gender_parity, `${c.name}: gender parity`);
    assert.deepEqual(taskMetrics("ax-g", c.preds, c.labels, c.groups), m);
  }
  for (const c of fixture.axb) {
    close(matthewsCorrelation(c.preds, c.labels), c.mcc, `${c.name}: mcc`);
    close(taskMetrics("ax-b", c.preds, c.labels).mcc, c.mcc, `${c.name}: ax-b registry`);
  }
  for (const c of fixture.cb) {
    close(macroF1(c.preds, c.labels), c.f1, `${c.name}: macro F1`);
    const m = cbMetrics(c.preds, c.labels);
    close(m.acc, c.acc, `${c.name}: acc`);
    close(m.acc_and_f1, c.acc_and_f1, `${c.name}: acc_and_f1`);
  }
  assert.throws(() => multircMetrics([1], [1]), /needs a group number per example/);
  assert.throws(() => genderParity([1, 0], [0]), TypeError);
  assert.throws(
    () => taskMetrics("squad", [0], [0]),
    /span-extraction task, scored on answer texts/,
  );
});
