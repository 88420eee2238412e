import assert from "node:assert/strict";
import { DATA_DIR, hasData } from "../../tests/_util/data.ts";
import { BEYOND_GLUE_TASKS, WNUT17_TAGS } from "./beyond_glue.ts";
import { readConllSentences } from "./conll.ts";
import { DataError } from "./data_error.ts";
import { candidatePaths, taskDataPath, taskSplits } from "./data_layout.ts";
import { bioEntities } from "./ner_metrics.ts";
import { readMrqaFile, readSquadFile } from "./squad.ts";
import { readSuperGlueExamples, type SuperGlueTaskName } from "./superglue.ts";
import { getTask, headKind, isRegression, knownTasks, numLabels, registerTask } from "./tasks.ts";

Deno.test("the tasks beyond GLUE are registered with their head kind, labels and metrics", () => {
  const names = "boolq cb copa multirc superglue-rte wic wsc ax-b ax-g wnut17 squad mrqa-squad";
  assert.deepEqual([...BEYOND_GLUE_TASKS], names.split(" "));
  for (const t of BEYOND_GLUE_TASKS) assert.ok(knownTasks().includes(t), t);
  assert.equal(
    getTask("rte").labels?.join(),
    "entailment,not_entailment",
    "plain rte stays GLUE's",
  );
  const heads = Object.fromEntries(BEYOND_GLUE_TASKS.map((t) => [t, headKind(t)]));
  assert.equal(heads.copa, "multiple-choice");
  assert.equal(heads.wnut17, "token-classification");
  assert.equal(heads.squad, "span-extraction");
  assert.equal(heads["mrqa-squad"], "span-extraction");
  assert.equal(heads.cb, "classification");
  assert.deepEqual(BEYOND_GLUE_TASKS.map(numLabels), [2, 3, 2, 2, 2, 2, 2, 2, 2, 13, 2, 2]);
  assert.deepEqual(getTask("wnut17").labels, WNUT17_TAGS);
  assert.equal(getTask("squad").labels, null);
  assert.equal(isRegression("squad"), false, "span extraction is not regression");
  assert.equal(getTask("wic").markedSpans, 2);
  assert.equal(getTask("wsc").markedSpans, 2);
  assert.equal(getTask("ax-b").evaluatedWith, "superglue-rte");
  assert.equal(getTask("ax-g").evaluatedWith, "superglue-rte");
  assert.equal(registerTask({ ...getTask("copa") }), getTask("copa"), "same definition again");
});

Deno.test("registerTask() checks head kinds and their fields", () => {
  const base = { labels: ["a", "b"], numLabels: 2, metrics: () => ({}) };
  assert.throws(
    () => registerTask({ ...base, name: "bad-head", head: "tagging" as "classification" }),
    /head "tagging" is not one of "classification", "token-classification"/,
  );
  assert.throws(
    () => registerTask({ ...base, name: "bad-span", head: "span-extraction" }),
    /a span-extraction task has labels: null/,
  );
  assert.throws(
    () => registerTask({ ...base, name: "bad-span2", labels: null, head: "span-extraction" }),
    /a span-extraction task needs answerMetrics/,
  );
  assert.throws(
    () =>
      registerTask({
        ...base,
        name: "bad-span3",
        labels: null,
        numLabels: 1,
        head: "span-extraction",
        answerMetrics: () => ({}),
      }),
    /numLabels is 1 but a span-extraction head has 2 outputs/,
  );
  assert.throws(
    () =>
      registerTask({
        ...base,
        name: "bad-tags",
        labels: null,
        numLabels: 1,
        head: "token-classification",
      }),
    /needs labels \(its tags or choices\)/,
  );
  assert.throws(
    () => registerTask({ ...base, name: "bad-spans", markedSpans: 0 }),
    /markedSpans is 0; it is a positive count/,
  );
  const def = registerTask({ ...base, name: "beyond-test-tagger", head: "token-classification" });
  assert.equal(headKind(def.name), "token-classification");
});

async function tree(files: string[]): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "camtl-layout-" });
  for (const f of files) {
    await Deno.mkdir(`${root}/${f.slice(0, f.lastIndexOf("/"))}`, { recursive: true });
    await Deno.writeTextFile(`${root}/${f}`, "x\n");
  }
  return root;
}

Deno.test("taskDataPath() finds a split in a data root, a folder of task folders or the task's folder", async () => {
  const root = await tree([
    "glue/RTE/dev.tsv",
    "superglue/RTE/val.jsonl",
    "superglue/AX-b/AX-b.jsonl",
    "wnut17/emerging.dev.conll",
    "squad_v1.1/dev-v1.1.json",
    "mrqa/dev/SQuAD.jsonl.gz",
  ]);
  const flat = await tree([
    "RTE/dev.tsv",
    "RTE/val.jsonl",
    "CB/train.jsonl",
    "wnut17/wnut17train.conll",
  ]);
  try {
    assert.equal(await taskDataPath(root, "rte", "dev"), `${root}/glue/RTE/dev.tsv`);
    assert.equal(
      await taskDataPath(`${root}/`, "superglue-rte", "dev"),
      `${root}/superglue/RTE/val.jsonl`,
    );
    assert.equal(await taskDataPath(root, "ax-b", "test"), `${root}/superglue/AX-b/AX-b.jsonl`);
    assert.equal(await taskDataPath(root, "wnut17", "dev"), `${root}/wnut17/emerging.dev.conll`);
    assert.equal(await taskDataPath(root, "squad", "dev"), `${root}/squad_v1.1/dev-v1.1.json`);
    assert.equal(await taskDataPath(root, "mrqa-squad", "dev"), `${root}/mrqa/dev/SQuAD.jsonl.gz`);
    assert.equal(await taskDataPath(`${root}/glue`, "rte", "dev"), `${root}/glue/RTE/dev.tsv`);
    assert.equal(await taskDataPath(flat, "rte", "dev"), `${flat}/RTE/dev.tsv`);
    assert.equal(await taskDataPath(flat, "superglue-rte", "dev"), `${flat}/RTE/val.jsonl`);
    assert.equal(await taskDataPath(flat, "cb", "train"), `${flat}/CB/train.jsonl`);
    assert.equal(await taskDataPath(flat, "wnut17", "train"), `${flat}/wnut17/wnut17train.conll`);
    assert.equal(
      await taskDataPath(`${root}/superglue/RTE`, "superglue-rte", "dev"),
      `${root}/superglue/RTE/val.jsonl`,
    );
    assert.equal(
      await taskDataPath(`${root}/mrqa`, "mrqa-squad", "dev"),
      `${root}/mrqa/dev/SQuAD.jsonl.gz`,
    );
    await assert.rejects(taskDataPath(flat, "cb", "dev"), (err: unknown) => {
      assert.ok(err instanceof DataError);
      assert.equal(
        err.message,
        `Cannot find the dev split of "cb" under "${flat}": tried "${flat}/superglue/CB/val.jsonl", "${flat}/CB/val.jsonl", "${flat}/val.jsonl"; the folder contains "CB", "RTE", "wnut17"`,
      );
      return true;
    });
  } finally {
    await Deno.remove(root, { recursive: true });
    await Deno.remove(flat, { recursive: true });
  }
  assert.throws(
    () => candidatePaths(".", "squad", "test"),
    /Cannot read split "test" of "squad": it has "train", "dev"/,
  );
  assert.deepEqual(taskSplits("ax-g"), ["test"]);
  assert.deepEqual(taskSplits("cola"), ["train", "dev", "test"]);
  assert.throws(() => taskSplits("no-such-task"), /unknown task/);
});

// PROVENANCE.md: paragraphs, questions, answer options.
const MULTIRC_COUNTS = { train: [456, 5131, 27243], dev: [83, 953, 4848], test: [166, 1820, 9693] };
// PROVENANCE.md: sentences, tokens, entities.
const WNUT_COUNTS = {
  train: [3394, 62730, 1975],
  dev: [1009, 15733, 836],
  test: [1287, 23394, 1079],
};

const SUPERGLUE_COUNTS: [SuperGlueTaskName, string, number][] = [
  ["boolq", "dev", 3270],
  ["boolq", "test", 3245],
  ["cb", "train", 250],
  ["cb", "dev", 56],
  ["cb", "test", 250],
  ["copa", "train", 400],
  ["copa", "dev", 100],
  ["copa", "test", 500],
  ["superglue-rte", "train", 2490],
  ["superglue-rte", "dev", 277],
  ["superglue-rte", "test", 3000],
  ["wic", "train", 5428],
  ["wic", "dev", 638],
  ["wic", "test", 1400],
  ["wsc", "train", 554],
  ["wsc", "dev", 104],
  ["wsc", "test", 146],
  ["ax-b", "test", 1104],
  ["ax-g", "test", 356],
];

Deno.test("SuperGLUE readers give PROVENANCE.md's example counts on the shared data", async () => {
  if (!hasData("superglue")) return;
  for (const [task, split, expected] of SUPERGLUE_COUNTS) {
    let n = 0;
    const path = await taskDataPath(DATA_DIR, task, split);
    for await (const _ of readSuperGlueExamples({ task, path })) n++;
    assert.equal(n, expected, `${task} ${split}`);
  }
  for (const [split, expected] of Object.entries(MULTIRC_COUNTS)) {
    const path = await taskDataPath(DATA_DIR, "multirc", split);
    const examples = await Array.fromAsync(readSuperGlueExamples({ task: "multirc", path }));
    const paragraphs = new Set(examples.map((e) => e.multirc![0])).size;
    const questions = new Set(examples.map((e) => e.group)).size;
    assert.deepEqual([paragraphs, questions, examples.length], expected, `multirc ${split}`);
  }
});

Deno.test("WNUT-2017, SQuAD and MRQA readers give PROVENANCE.md's counts on the shared data", async () => {
  if (hasData("wnut17")) {
    for (const [split, expected] of Object.entries(WNUT_COUNTS)) {
      const path = await taskDataPath(DATA_DIR, "wnut17", split);
      const read = readConllSentences({ path, tags: WNUT17_TAGS, task: "wnut17" });
      const sentences = await Array.fromAsync(read);
      const tokens = sentences.reduce((n, s) => n + s.words.length, 0);
      const entities = sentences.reduce((n, s) => n + bioEntities(s.tags!).length, 0);
      assert.deepEqual([sentences.length, tokens, entities], expected, `wnut17 ${split}`);
    }
  }
  if (hasData("squad_v1.1")) {
    const paragraphs = await readSquadFile(await taskDataPath(DATA_DIR, "squad", "dev"));
    const questions = paragraphs.reduce((n, p) => n + p.questions.length, 0);
    assert.deepEqual([paragraphs.length, questions], [2067, 10570], "SQuAD v1.1 dev");
  }
  if (hasData("mrqa")) {
    let contexts = 0, questions = 0;
    for await (const p of readMrqaFile(await taskDataPath(DATA_DIR, "mrqa-squad", "dev"))) {
      contexts++;
      questions += p.questions.length;
    }
    assert.deepEqual([contexts, questions], [2067, 10507], "MRQA SQuAD dev");
  }
});
