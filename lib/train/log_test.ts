import assert from "node:assert/strict";
import { DataError } from "../data/data_error.ts";
import {
  appendJsonl,
  formatPythonFloat,
  JsonlLogger,
  readJsonl,
  writeEvalResults,
  writeJsonAtomic,
  writeTextAtomic,
} from "./log.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const names = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("JsonlLogger appends one line per record, in order, across reopenings", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/log_history.jsonl`;
    const first = JsonlLogger.open(path);
    const record = {
      step: 50,
      epoch: 0.25,
      loss: 0.6931,
      learning_rate: 1.8e-5,
      examples_per_second: 123.4,
      sampler: { "demo-sentiment": 544, "demo-rating": 512 },
      eval: { "demo-sentiment": { acc: 0.75 } },
    };
    first.append(record);
    first.append({ step: 100, loss: NaN });
    first.close();
    first.close();
    assert.throws(() => first.append({ step: 101 }), /the log is closed/);
    const again = JsonlLogger.open(path, { sync: true });
    again.append({ step: 150 });
    again.close();
    const text = await Deno.readTextFile(path);
    assert.equal(text.split("\n").length, 4);
    const { records, truncated } = await readJsonl(path);
    assert.equal(truncated, false);
    assert.deepEqual(records, [record, { step: 100, loss: null }, { step: 150 }]);
  });
});

Deno.test("JsonlLogger.open() cuts a torn last line so the next record starts a new line", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/log.jsonl`;
    // A process killed mid-write: one good line, then half a record (longer than one read chunk).
    await Deno.writeTextFile(path, '{"step":1}\n{"step":2,"note":"' + "x".repeat(5000));
    assert.deepEqual(await readJsonl(path), { records: [{ step: 1 }], truncated: true });
    const log = JsonlLogger.open(path);
    log.append({ step: 3 });
    log.close();
    assert.equal(await Deno.readTextFile(path), '{"step":1}\n{"step":3}\n');
    // A file that is only a torn line becomes empty.
    await Deno.writeTextFile(`${dir}/torn.jsonl`, '{"st');
    JsonlLogger.open(`${dir}/torn.jsonl`).close();
    assert.equal(await Deno.readTextFile(`${dir}/torn.jsonl`), "");
  });
});

Deno.test("JsonlLogger.open() with resumeAtStep drops records logged after the checkpoint", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/log.jsonl`;
    const log = JsonlLogger.open(path);
    for (const step of [50, 100, 150, 200]) log.append({ step, loss: 1 / step });
    log.append({ note: "no step is kept" });
    log.close();
    const resumed = JsonlLogger.open(path, { resumeAtStep: 100 });
    resumed.append({ step: 150, loss: 0.5 });
    resumed.close();
    const { records } = await readJsonl(path);
    assert.deepEqual(records.map((r) => (r as { step?: number }).step), [50, 100, undefined, 150]);
    assert.equal((records[3] as { loss: number }).loss, 0.5);
  });
});

Deno.test("readJsonl() names the line that is not JSON", async () => {
  await withDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/bad.jsonl`, '{"step":1}\n{oops}\n{"step":3}\n');
    await assert.rejects(() => readJsonl(`${dir}/bad.jsonl`), (e: unknown) => {
      assert.ok(e instanceof DataError);
      assert.equal(e.line, 2);
      assert.match(e.message, /^Cannot read ".*bad\.jsonl" line 2: it is not JSON/);
      return true;
    });
  });
});

Deno.test("appendJsonl() keeps call order even when its promises are not awaited", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/log.jsonl`;
    const pending = [];
    for (let step = 1; step <= 50; step++) pending.push(appendJsonl(path, { step }));
    await Promise.all(pending);
    const { records } = await readJsonl(path);
    assert.deepEqual(records, Array.from({ length: 50 }, (_, i) => ({ step: i + 1 })));
    await assert.rejects(() => appendJsonl(`${dir}/missing/log.jsonl`, {}), Deno.errors.NotFound);
  });
});

Deno.test("writeEvalResults() writes HF's key = value lines in the given order", async () => {
  await withDir(async (dir) => {
    const path = await writeEvalResults(dir, "mrpc", {
      eval_acc: 0.8357843137254902,
      eval_f1: 0.8845470692717585,
      eval_acc_and_f1: 0.8601656914986244,
      eval_loss: 0.4,
      epoch: 3,
    });
    assert.equal(path, `${dir}/eval_results_mrpc.txt`);
    assert.equal(
      await Deno.readTextFile(path),
      "eval_acc = 0.8357843137254902\neval_f1 = 0.8845470692717585\n" +
        "eval_acc_and_f1 = 0.8601656914986244\neval_loss = 0.4\nepoch = 3.0\n",
    );
    await assert.rejects(() => writeEvalResults(dir, "../x", {}), RangeError);
    assert.deepEqual(names(dir), ["eval_results_mrpc.txt"]);
  });
});

Deno.test("formatPythonFloat() prints floats as Python's str() does", () => {
  const cases: [number, string][] = [
    [0.1, "0.1"],
    [1 / 3, "0.3333333333333333"],
    [2, "2.0"],
    [-250, "-250.0"],
    [0.0001, "0.0001"],
    [0.00012, "0.00012"],
    [1e-5, "1e-05"],
    [-2.5e-7, "-2.5e-07"],
    [1e15, "1000000000000000.0"],
    [1e16, "1e+16"],
    [1.2345678901234568e20, "1.2345678901234568e+20"],
    [1e100, "1e+100"],
    [0, "0.0"],
    [-0, "-0.0"],
    [NaN, "nan"],
    [Infinity, "inf"],
    [-Infinity, "-inf"],
  ];
  for (const [v, want] of cases) assert.equal(formatPythonFloat(v), want, String(v));
});

Deno.test("writeJsonAtomic() replaces the file whole and leaves no temporary file", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/trainer_state.json`;
    await writeJsonAtomic(path, { global_step: 1 });
    await writeJsonAtomic(path, { global_step: 2, log_history: [{ step: 2, loss: 0.5 }] });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(path)), {
      global_step: 2,
      log_history: [{ step: 2, loss: 0.5 }],
    });
    assert.ok((await Deno.readTextFile(path)).endsWith("}\n"));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(() => writeJsonAtomic(path, cyclic), TypeError);
    await assert.rejects(() => writeTextAtomic(`${dir}/no/such/file`, "x"), Deno.errors.NotFound);
    assert.deepEqual(names(dir), ["trainer_state.json"]);
    assert.equal(JSON.parse(await Deno.readTextFile(path)).global_step, 2);
  });
});
