import assert from "node:assert/strict";
import {
  argmaxRows,
  formatGluePredictions,
  gluePredictionFileName,
  writeGluePredictions,
} from "./predictions.ts";

Deno.test("argmaxRows() takes the first maximum of each row", () => {
  assert.deepEqual(Array.from(argmaxRows([0.1, 0.9, 0.2, 2, 2, 1, -1, -3, -2], 3)), [1, 0, 0]);
  assert.throws(() => argmaxRows([1, 2, 3], 2), TypeError);
});

Deno.test("GLUE submission files hold label strings or 3-decimal scores under a header", async () => {
  assert.equal(
    formatGluePredictions("mnli-mm", [2, 0, 1]),
    "index\tprediction\n0\tneutral\n1\tcontradiction\n2\tentailment\n",
  );
  assert.equal(formatGluePredictions("cola", [1, 0]), "index\tprediction\n0\t1\n1\t0\n");
  assert.equal(
    formatGluePredictions("sts-b", [4.99951, 0, -0.0004, 2.5]),
    "index\tprediction\n0\t5.000\n1\t0.000\n2\t-0.000\n3\t2.500\n",
  );
  assert.throws(
    () => formatGluePredictions("rte", [2]),
    /prediction 0 is 2, not a class index below 2/,
  );
  assert.equal(gluePredictionFileName("sst-2", 1500), "sst-2_test_iter_1500.tsv");
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/${gluePredictionFileName("qnli", 7)}`;
    await writeGluePredictions(path, { task: "qnli", predictions: argmaxRows([0, 1, 1, 0], 2) });
    assert.equal(
      await Deno.readTextFile(path),
      "index\tprediction\n0\tnot_entailment\n1\tentailment\n",
    );
    await assert.rejects(
      () => writeGluePredictions(`${dir}/bad.tsv`, { task: "qnli", predictions: [5] }),
      RangeError,
    );
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
      gluePredictionFileName("qnli", 7),
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
