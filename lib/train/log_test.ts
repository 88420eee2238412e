import assert from "node:assert/strict";
import { appendJsonl, writeEvalResults, writeJsonAtomic } from "./log.ts";

Deno.test("eval results use HF's key = value lines and JSONL appends whole lines", async () => {
  const dir = await Deno.makeTempDir();
  await writeEvalResults(dir, "mrpc", { f1: 0.8, acc: 0.75, eval_loss: 0.5 });
  assert.equal(
    await Deno.readTextFile(`${dir}/eval_results_mrpc.txt`),
    "acc = 0.75\neval_loss = 0.5\nf1 = 0.8\n",
  );
  await appendJsonl(`${dir}/log.jsonl`, { step: 1, loss: 0.5 });
  await appendJsonl(`${dir}/log.jsonl`, { step: 2, loss: 0.4 });
  const lines = (await Deno.readTextFile(`${dir}/log.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(lines, [{ step: 1, loss: 0.5 }, { step: 2, loss: 0.4 }]);
  await writeJsonAtomic(`${dir}/x.json`, { a: [1, 2] });
  assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/x.json`)), { a: [1, 2] });
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), [
    "eval_results_mrpc.txt",
    "log.jsonl",
    "x.json",
  ]); // no temporary files left
  await Deno.remove(dir, { recursive: true });
});
