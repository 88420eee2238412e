import assert from "node:assert/strict";
import { parseArgs } from "./args.ts";

const REQUIRED = [
  "--model_name_or_path",
  "CA-MTL-base",
  "--data_dir",
  "data",
  "--output_dir",
  "out",
];

Deno.test("--tasks takes every task with files, and refuses unknown names and lone diagnostics in one line", () => {
  const args = parseArgs([...REQUIRED, "--tasks", "rte", "cb", "copa", "wnut17", "squad"]);
  assert.deepEqual(args.tasks, ["rte", "cb", "copa", "wnut17", "squad"]);
  const mixed = ["boolq", "multirc", "wic", "wsc", "superglue-rte", "ax-b", "ax-g", "mrqa-squad"];
  assert.deepEqual(parseArgs([...REQUIRED, "--tasks", ...mixed]).tasks, mixed);
  assert.throws(
    () => parseArgs([...REQUIRED, "--tasks", "cola", "wnut16"]),
    /Cannot train on task "wnut16": unknown task; did you mean "wnut17"\? Known: cola .* squad mrqa-squad$/,
  );
  assert.throws(
    () => parseArgs([...REQUIRED, "--tasks", "rte", "ax-b"]),
    /Cannot use task "ax-b": it is a test-only diagnostic predicted with the head of "superglue-rte"; list "superglue-rte" too$/,
  );
  const squad = parseArgs([...REQUIRED, "--doc_stride", "64", "--max_eval_samples", "5"]);
  assert.deepEqual([squad.docStride, squad.maxEvalSamples], [64, 5]);
  assert.throws(
    () => parseArgs([...REQUIRED, "--max_train_samples", "0"]),
    /expected an integer >= 1/,
  );
});
