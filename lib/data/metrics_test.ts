import assert from "node:assert/strict";
import {
  accuracy,
  averageRanks,
  f1Score,
  glueComputeMetrics,
  matthewsCorrelation,
  pearson,
  spearman,
} from "./metrics.ts";
import { GLUE_TASKS } from "./glue_tasks.ts";

interface ClassCase {
  name: string;
  preds: number[];
  labels: number[];
  acc: number;
  mcc: number;
  f1?: number;
}
interface RegCase {
  name: string;
  preds: number[];
  labels: number[];
  pearson: number | null;
  spearmanr: number | null;
}
const fixture: { classification: ClassCase[]; regression: RegCase[] } = JSON.parse(
  await Deno.readTextFile(new URL("../../tests/fixtures/metrics_fixture.json", import.meta.url)),
);

function close(actual: number, expected: number | null, what: string) {
  if (expected === null) {
    assert.ok(Number.isNaN(actual), `${what}: expected NaN, got ${actual}`);
    return;
  }
  assert.ok(
    Math.abs(actual - expected) <= 1e-12 + 1e-12 * Math.abs(expected),
    `${what}: got ${actual}, scikit-learn/scipy gave ${expected}`,
  );
}

Deno.test("classification metrics match scikit-learn on the fixture cases", () => {
  assert.ok(fixture.classification.length >= 8);
  for (const c of fixture.classification) {
    close(accuracy(c.preds, c.labels), c.acc, `${c.name}: accuracy`);
    close(matthewsCorrelation(c.preds, c.labels), c.mcc, `${c.name}: mcc`);
    if (c.f1 !== undefined) close(f1Score(c.preds, c.labels), c.f1, `${c.name}: f1`);
  }
});

Deno.test("correlations match scipy on the fixture cases, ties included", () => {
  assert.ok(fixture.regression.some((c) => c.name.includes("ties")));
  for (const c of fixture.regression) {
    close(pearson(c.preds, c.labels), c.pearson, `${c.name}: pearson`);
    close(spearman(c.preds, c.labels), c.spearmanr, `${c.name}: spearman`);
  }
});

Deno.test("matthewsCorrelation() gives 0, not NaN, for constant predictions", () => {
  assert.equal(matthewsCorrelation([1, 1, 1, 1], [0, 1, 0, 1]), 0);
  assert.equal(matthewsCorrelation([0, 0], [0, 0]), 0);
});

Deno.test("averageRanks() gives tied values the mean of their ranks", () => {
  assert.deepEqual(Array.from(averageRanks([10, 20, 20, 5, 20])), [2, 4, 4, 1, 4]);
});

Deno.test("glueComputeMetrics() returns the HF 2.x keys per task", () => {
  const preds = [1, 0, 1, 1, 0, 1], labels = [1, 0, 0, 1, 0, 1];
  const keys: Record<string, string[]> = {
    "cola": ["mcc"],
    "mrpc": ["acc", "acc_and_f1", "f1"],
    "qqp": ["acc", "acc_and_f1", "f1"],
    "sts-b": ["corr", "pearson", "spearmanr"],
  };
  for (const task of [...GLUE_TASKS, "mnli-mm"]) {
    const m = glueComputeMetrics(task, preds, labels);
    assert.deepEqual(Object.keys(m).sort(), keys[task] ?? ["acc"], task);
  }
  const m = glueComputeMetrics("mrpc", preds, labels);
  assert.equal(m.acc_and_f1, (m.acc + m.f1) / 2);
  const s = glueComputeMetrics("sts-b", [0.1, 2.3, 4.8, 3.0], [0.5, 2.0, 5.0, 2.5]);
  assert.equal(s.corr, (s.pearson + s.spearmanr) / 2);
  assert.equal(s.spearmanr, 1);
});

Deno.test("metrics reject mismatched lengths, empty inputs and unknown tasks", () => {
  assert.throws(() => accuracy([1, 0], [1]), TypeError);
  assert.throws(() => pearson([], []), RangeError);
  assert.throws(() => glueComputeMetrics("squad", [1], [1]), /known tasks are "cola"/);
});
