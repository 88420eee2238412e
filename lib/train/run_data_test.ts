import assert from "node:assert/strict";
import { BertTokenizer } from "../text/tokenizer.ts";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { writePredictionFile } from "./prediction_files.ts";
import { taskData } from "./run_data.ts";

Deno.test("taskData mixes families from a data root; diagnostics take their head's task id", async () => {
  if (!hasData("superglue") || !hasData("glue/RTE")) return;
  const dir = await Deno.makeTempDir({ prefix: "camtl-run-data-" });
  try {
    const data = await taskData({
      dataDir: dataPath(""),
      tasks: ["rte", "superglue-rte", "ax-b", "ax-g", "cb"],
      tokenizer: await BertTokenizer.fromFolder(dataPath("bert-base-cased")),
      maxSeqLength: 64,
      docStride: 128,
      maxQueryLength: 64,
      maxTrainSamples: 7,
      maxEvalSamples: 5,
      cacheDir: `${dir}/cache`,
      overwriteCache: false,
      splits: { train: true, dev: true, test: true },
    });
    assert.deepEqual(data.tasks, ["rte", "superglue-rte", "cb"], "diagnostics have no head");
    const ids = (sets: typeof data.train) => sets.map((s) => [s.task, s.taskId, s.size]);
    assert.deepEqual(ids(data.train), [["rte", 0, 7], ["superglue-rte", 1, 7], ["cb", 2, 7]]);
    assert.deepEqual(ids(data.dev), [["rte", 0, 5], ["superglue-rte", 1, 5], ["cb", 2, 5]]);
    assert.deepEqual(ids(data.test), [
      ["rte", 0, 5],
      ["superglue-rte", 1, 5],
      ["ax-b", 1, 5],
      ["ax-g", 1, 5],
      ["cb", 2, 5],
    ]);
    const axg = data.test[3];
    const name = await writePredictionFile(dir, axg, {
      kind: "classification",
      labels: Int32Array.of(0, 1, 1, 0, 1),
    }, 3);
    assert.equal(name, "AX-g.jsonl");
    const rows = (await Deno.readTextFile(`${dir}/${name}`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(rows.map((r) => r.label), [
      "entailment",
      "not_entailment",
      "not_entailment",
      "entailment",
      "not_entailment",
    ]);
    assert.deepEqual(rows.map((r) => r.idx), axg.meta!.ids);
    const glue = await writePredictionFile(dir, data.test[0], {
      kind: "classification",
      labels: Int32Array.of(1, 0, 0, 1, 1),
    }, 3);
    assert.equal(glue, "rte_test_iter_3.tsv");
    assert.equal(
      await Deno.readTextFile(`${dir}/${glue}`),
      "index\tprediction\n0\tnot_entailment\n1\tentailment\n2\tentailment\n3\tnot_entailment\n4\tnot_entailment\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
