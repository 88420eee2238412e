import assert from "node:assert/strict";
import { dataPath, hasData } from "../../tests/_util/data.ts";
import { DataError } from "./data_error.ts";
import {
  GLUE_LABELS,
  GLUE_TASKS,
  type GlueSplit,
  loadGlueExamples,
  numLabels,
  readGlueExamples,
} from "./glue.ts";
import { SYNTHETIC, writeGlueFile, writeSyntheticGlue } from "./_synthetic_glue.ts";

const GLUE = "glue";
// Data rows per split, as the test data's PROVENANCE.md (in `$CAMTL_DATA`) lists them.
const COUNTS: Record<string, Partial<Record<GlueSplit, number>>> = {
  "cola": { train: 8551, dev: 1043, test: 1063 },
  "sst-2": { train: 67349, dev: 872, test: 1821 },
  "mrpc": { train: 3668, dev: 408, test: 1725 },
  "sts-b": { train: 5749, dev: 1500, test: 1379 },
  "rte": { train: 2490, dev: 277, test: 3000 },
  "wnli": { train: 635, dev: 71, test: 146 },
  "qnli": { dev: 5463, test: 5463 },
};

Deno.test({
  name: "every shared GLUE split loads with the published row count",
  ignore: !hasData(GLUE),
  async fn() {
    for (const [task, splits] of Object.entries(COUNTS)) {
      for (const [split, n] of Object.entries(splits)) {
        const got = await loadGlueExamples({ dataDir: dataPath(GLUE), task, split });
        assert.equal(got.examples.length, n, `${task} ${split}`);
        assert.equal(got.skippedLines.length, 0);
        const labelled = got.examples.filter((e) => e.label !== null).length;
        assert.equal(labelled, split === "test" ? 0 : n, `${task} ${split} labels`);
        assert.ok(got.examples.every((e) => e.textA.length > 0), `${task} ${split} text`);
        const pair = task !== "cola" && task !== "sst-2";
        assert.ok(
          got.examples.every((e) => (e.textB !== null) === pair),
          `${task} ${split} text B`,
        );
      }
    }
  },
});

Deno.test({
  name: "GLUE columns and labels are read as transformers 2.x reads them",
  ignore: !hasData(GLUE),
  async fn() {
    const cola = await loadGlueExamples({ dataDir: dataPath(GLUE), task: "cola", split: "train" });
    assert.deepEqual(cola.examples[0], {
      line: 1,
      textA: "Our friends won't buy this analysis, let alone the next one we propose.",
      textB: null,
      label: 1,
    });
    const colaTest = await loadGlueExamples({
      dataDir: dataPath(GLUE),
      task: "cola",
      split: "test",
    });
    assert.equal(colaTest.examples[0].textA, "Bill whistled past the house.");
    const mrpc = await loadGlueExamples({ dataDir: dataPath(GLUE), task: "mrpc", split: "train" });
    assert.equal(mrpc.examples[0].label, 1); // header starts with a BOM
    assert.match(mrpc.examples[0].textA, /^Amrozi accused his brother/);
    const stsb = await loadGlueExamples({ dataDir: dataPath(GLUE), task: "sts-b", split: "train" });
    assert.deepEqual(stsb.examples.slice(0, 2).map((e) => e.label), [5, 3.8]);
    assert.ok(stsb.examples.some((e) => !Number.isInteger(e.label)));
    const rte = await loadGlueExamples({ dataDir: dataPath(GLUE), task: "rte", split: "dev" });
    assert.equal(GLUE_LABELS.rte[rte.examples[0].label!], "not_entailment");
  },
});

Deno.test("synthetic MNLI (matched and mismatched) and QQP load, QQP short rows skipped and counted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeSyntheticGlue(dir);
    const load = (task: string, split: string) => loadGlueExamples({ dataDir: dir, task, split });
    assert.equal((await load("mnli", "train")).examples.length, SYNTHETIC.mnliTrain);
    const dev = await load("mnli", "dev");
    assert.equal(dev.examples.length, SYNTHETIC.mnliDev);
    assert.match(dev.file, /dev_matched\.tsv$/);
    // Label from the last column (gold_label), texts from columns 8 and 9.
    assert.deepEqual(dev.examples[4], {
      line: 6,
      textA: "The premise number 4 is here.",
      textB: "Hypothesis 4.",
      label: 4 % 3,
    });
    const mm = await load("mnli-mm", "dev");
    assert.equal(mm.examples.length, SYNTHETIC.mnliDevMm);
    assert.match(mm.file, /dev_mismatched\.tsv$/);
    assert.equal((await load("mnli-mm", "test")).examples.length, SYNTHETIC.mnliTest);
    const qqp = await load("qqp", "train");
    assert.equal(qqp.examples.length, SYNTHETIC.qqpTrain);
    assert.equal(qqp.skippedLines.length, SYNTHETIC.qqpShortRows);
    assert.deepEqual(qqp.skippedLines, [3, 5, 7]);
    assert.equal(qqp.examples[1].textB, "What is question 1?");
    const qqpTest = await load("qqp", "test");
    assert.deepEqual(qqpTest.examples[2], {
      line: 4,
      textA: "Is 2 a test?",
      textB: "Is 2 a question?",
      label: null,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("numLabels() and GLUE_TASKS follow the released task list", () => {
  assert.deepEqual([...GLUE_TASKS], [
    "cola",
    "mnli",
    "rte",
    "wnli",
    "qqp",
    "sts-b",
    "sst-2",
    "qnli",
    "mrpc",
  ]);
  assert.deepEqual(GLUE_TASKS.map(numLabels), [2, 3, 2, 2, 2, 1, 2, 2, 2]);
});

async function rejectsData(
  promise: () => Promise<unknown>,
  pattern: RegExp,
  line?: number,
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof DataError, `expected DataError, got ${err}`);
    assert.match(err.message, pattern);
    if (line !== undefined) assert.equal(err.line, line);
    return true;
  });
}

Deno.test("bad GLUE inputs give errors naming the file and line", async (t) => {
  const dir = await Deno.makeTempDir();
  const read = (task: string, split: string) => () =>
    loadGlueExamples({ dataDir: dir, task, split });
  try {
    await writeGlueFile(dir, "RTE", "train.tsv", "index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n");
    await t.step("missing task folder lists what the data folder contains", async () => {
      await rejectsData(read("cola", "train"), /no folder "CoLA"; the data folder contains "RTE"/);
    });
    await t.step("missing split file lists the task folder", async () => {
      await rejectsData(
        read("rte", "dev"),
        /no file "dev.tsv" in ".*RTE"; the folder contains "train.tsv"/,
      );
    });
    await t.step("unknown task lists the known tasks", async () => {
      await assert.rejects(
        read("squad", "train"),
        /Cannot use task "squad": unknown task; known tasks are "cola", "mnli"/,
      );
      await assert.rejects(read("rte", "validation"), /unknown split/);
    });
    await t.step("bad label names file, line, value and the allowed labels", async () => {
      await writeGlueFile(
        dir,
        "RTE",
        "train.tsv",
        "index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\tc\td\tcontradiction\n",
      );
      await rejectsData(
        read("rte", "train"),
        /RTE\/train.tsv" line 3: label "contradiction" is not one of the "rte" labels "entailment", "not_entailment"/,
        3,
      );
      await writeGlueFile(
        dir,
        "STS-B",
        "dev.tsv",
        `${"h\t".repeat(9)}score\n${"x\t".repeat(9)}4.2\n${"x\t".repeat(9)}high\n`,
      );
      await rejectsData(
        read("sts-b", "dev"),
        /STS-B\/dev.tsv" line 3: label "high" is not a number/,
        3,
      );
    });
    await t.step("ragged row names file, line and column counts", async () => {
      await writeGlueFile(
        dir,
        "RTE",
        "train.tsv",
        "index\ts1\ts2\tlabel\n0\ta\tb\tentailment\n1\tc\tnot_entailment\n",
      );
      await rejectsData(
        read("rte", "train"),
        /RTE\/train.tsv" line 3: expected 4 tab-separated columns, found 3/,
        3,
      );
      await writeGlueFile(dir, "CoLA", "train.tsv", "src\t1\t\tfine.\nsrc\t0\t*\tbad\textra\n");
      await rejectsData(
        read("cola", "train"),
        /CoLA\/train.tsv" line 2: expected 4 tab-separated columns, found 5/,
        2,
      );
      await writeGlueFile(
        dir,
        "QQP",
        "dev.tsv",
        "id\tq1\tq2\tquestion1\tquestion2\tis_duplicate\n0\t1\t2\ta\tb\t1\tspill\n",
      );
      await rejectsData(
        read("qqp", "dev"),
        /QQP\/dev.tsv" line 2: expected 6 tab-separated columns, found 7/,
        2,
      );
    });
    await t.step("empty file and header-only file", async () => {
      await writeGlueFile(dir, "WNLI", "train.tsv", "");
      await rejectsData(read("wnli", "train"), /WNLI\/train.tsv": the file is empty/);
      await writeGlueFile(dir, "WNLI", "dev.tsv", "index\ts1\ts2\tlabel\n");
      await rejectsData(
        read("wnli", "dev"),
        /WNLI\/dev.tsv": the file has no data rows after its header/,
      );
    });
    await t.step("binary file", async () => {
      // A zip archive saved under the TSV's name.
      const zip = new Uint8Array([
        0x50,
        0x4b,
        0x03,
        0x04,
        0x14,
        0x00,
        0x00,
        0x00,
        0x08,
        0x00,
        0x0a,
        0x09,
      ]);
      await writeGlueFile(dir, "SST-2", "train.tsv", zip);
      await rejectsData(
        read("sst-2", "train"),
        /SST-2\/train.tsv" line 1: it contains NUL bytes/,
        1,
      );
      // Valid rows, then bytes that are not UTF-8 (a Latin-1 file, say).
      const latin1 = new Uint8Array([
        ...new TextEncoder().encode("sentence\tlabel\nok\t1\n"),
        0x63,
        0x61,
        0x66,
        0xe9,
        0x09,
        0x30,
        0x0a,
      ]);
      await writeGlueFile(dir, "SST-2", "dev.tsv", latin1);
      await rejectsData(read("sst-2", "dev"), /SST-2\/dev.tsv" line 3: it is not valid UTF-8/, 3);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "readGlueExamples() streams: breaking out early closes the file",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const dir = await Deno.makeTempDir();
    const openFiles = () => [...Deno.readDirSync("/proc/self/fd")].length;
    try {
      await writeSyntheticGlue(dir);
      const before = openFiles();
      let n = 0;
      for await (const _ of readGlueExamples({ dataDir: dir, task: "mnli", split: "train" })) {
        if (++n === 3) break;
      }
      assert.equal(n, 3);
      assert.equal(openFiles(), before);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
